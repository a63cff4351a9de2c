import { PresenceConfigurationError, rejectUnknownOptions, type Plugin, type Stack } from '@presence/core';
import { Registry, type PrometheusContentType, type RegistryContentType } from 'prom-client';
import { PresenceMetrics, STATUS_CLASSES, type ClientGauges } from './metrics.js';

export const DEFAULT_PREFIX = 'presence_';

/**
 * Seconds. Cached answers take microseconds, upstream calls tens to hundreds of milliseconds,
 * and a call's deadline is 10 s by default: the bounds cover all three.
 */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/**
 * Seconds. An event normally reaches watch() well under a second after it happened; the upper
 * bounds show a long-poll that stalled or a clock that is off.
 */
export const DEFAULT_WATCH_LAG_BUCKETS: readonly number[] = Object.freeze([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);

/** Most bucket bounds accepted: each one is a series per operation and outcome. */
export const MAX_BUCKETS = 40;

export interface PrometheusMetricsOptions<T extends RegistryContentType = PrometheusContentType> {
  /** Where the metrics are registered. Default: a new Registry (never prom-client's global one unless you pass it). */
  registry?: Registry<T>;
  /** Prepended to every metric name. Default `presence_`. Letters, digits and underscores; not starting with a digit. */
  prefix?: string;
  /** Upper bounds in seconds of `<prefix>operation_duration_seconds`, increasing; `+Inf` is always added. */
  buckets?: readonly number[];
  /** Upper bounds in seconds of `<prefix>watch_lag_seconds`, increasing; `+Inf` is always added. */
  watchLagBuckets?: readonly number[];
}

export interface PrometheusMetricsPlugin<T extends RegistryContentType = PrometheusContentType> extends Plugin {
  readonly name: 'prometheusMetrics';
  /** The registry the metrics live in (the one passed, typed as passed): serve `await registry.metrics()` with `registry.contentType`. */
  readonly registry: Registry<T>;
  readonly prefix: string;
}

const KNOWN_OPTIONS = new Set(['registry', 'prefix', 'buckets', 'watchLagBuckets']);
const PREFIX = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function fail(field: string, message: string): never {
  throw new PresenceConfigurationError(field, `prometheusMetrics: ${message}`);
}

function checkRegistry<T extends RegistryContentType>(value: unknown): Registry<T> {
  // The rule calls both assertions unnecessary; the compiler needs them (`value` is unknown, and a
  // plain Registry is only a Registry<T> for the default T): a false positive.
  /* eslint-disable @typescript-eslint/no-unnecessary-type-assertion */
  if (value === undefined) return new Registry() as Registry<T>;
  const registry = value as Partial<Registry<RegistryContentType>> | null;
  /* eslint-enable @typescript-eslint/no-unnecessary-type-assertion */
  // Duck-typed, so a registry from another copy of prom-client still works.
  if (typeof registry !== 'object' || registry === null || typeof registry.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function') {
    fail('registry', 'registry must be a prom-client Registry (new Registry() from "prom-client"); leave it out to get a fresh one.');
  }
  return value as Registry<T>;
}

function checkPrefix(value: unknown): string {
  if (value === undefined) return DEFAULT_PREFIX;
  if (typeof value !== 'string' || (value !== '' && !PREFIX.test(value))) {
    fail('prefix', `prefix must be letters, digits and underscores, not starting with a digit (e.g. "presence_"); got ${JSON.stringify(value)}.`);
  }
  return value;
}

function checkBuckets(field: string, value: unknown, fallback: readonly number[]): readonly number[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_BUCKETS) {
    fail(field, `${field} must be an array of 1 to ${MAX_BUCKETS} upper bounds in seconds, e.g. [0.001, 0.01, 0.1, 1]; got ${Array.isArray(value) ? `${value.length} bounds` : typeof value}.`);
  }
  value.forEach((bound: unknown, i) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= 0) {
      fail(field, `${field}[${i}] must be a finite number of seconds above 0 (+Inf is always added); got ${String(bound)}.`);
    }
    if (i > 0 && bound <= (value[i - 1] as number)) {
      fail(field, `${field} must be strictly increasing; ${field}[${i}] = ${bound} follows ${String(value[i - 1])}.`);
    }
  });
  return Object.freeze([...(value as number[])]);
}

/** `1xx`…`5xx`, or `none` when no response arrived or the status is not an HTTP one. */
function statusClass(status: number | undefined): string {
  return status !== undefined && status >= 100 && status < 600 ? STATUS_CLASSES[Math.floor(status / 100) - 1]! : 'none';
}

/** Milliseconds as seconds; anything but a finite positive time (clock skew, a stand-in) is 0, which prom-client accepts. */
function seconds(ms: number): number {
  return ms > 0 && ms < Infinity ? ms / 1000 : 0;
}

/**
 * Prometheus metrics for a presence client: calls, their latency and outcome, HTTP attempts,
 * retries, cache lookups, cache store health, inflight calls, the retry budget and watch()'s
 * events, reconnects and lag, as prom-client Counters, Gauges and Histograms. It listens to the client's events only, so it works with any
 * cache or retry plugin that reports them. Several clients may share one registry (one plugin
 * each): their figures add up.
 */
export function prometheusMetrics<T extends RegistryContentType = PrometheusContentType>(options: PrometheusMetricsOptions<T> = {}): PrometheusMetricsPlugin<T> {
  if (typeof options !== 'object' || options === null) fail('options', 'pass an options object, e.g. prometheusMetrics({ registry }).');
  rejectUnknownOptions('prometheusMetrics', options, [...KNOWN_OPTIONS]);
  const registry = checkRegistry<T>(options.registry);
  const prefix = checkPrefix(options.prefix);
  const buckets = {
    duration: checkBuckets('buckets', options.buckets, DEFAULT_DURATION_BUCKETS),
    watchLag: checkBuckets('watchLagBuckets', options.watchLagBuckets, DEFAULT_WATCH_LAG_BUCKETS),
  };
  // Registered now, so a name clash fails at construction rather than at the first call.
  const metrics = PresenceMetrics.open(registry, prefix, buckets);

  return {
    name: 'prometheusMetrics',
    registry,
    prefix,
    apply(stack: Stack) {
      const { events, inflight } = stack.context;
      const { durations, cacheLookups, attempts, retries, statesDropped, watchEvents, watchReconnects, rosterAnswers, rosterSeeds, rosterLeaderChanges } = metrics;
      const gauges: ClientGauges = { inflight, circuitOpen: new Map(), retryBudgetTokens: undefined, rosterStalenessSeconds: undefined, rosterRole: undefined };
      metrics.clients.add(gauges);
      const unsubscribe = [
        // The call's end says how a cache answered it: one listener per call, not two.
        events.on('callEnd', (e) => {
          durations(e.operation)(e.outcome).observe(seconds(e.durationMs));
          if (e.cache !== undefined) cacheLookups(e.operation)(e.cache).inc();
        }),
        events.on('attempt', (e) => attempts(e.operation)(statusClass(e.status)).inc()),
        events.on('retry', (e) => retries(e.operation)(e.reason).inc()),
        events.on('retryBudget', (e) => {
          if (Number.isFinite(e.tokens)) gauges.retryBudgetTokens = e.tokens;
        }),
        // Rare events: prom-client's labelled calls are fine here. The free-text `reason` is never a label.
        events.on('cacheError', (e) => metrics.cacheErrors.inc({ store: metrics.storeLabel(e.store), kind: 'error' })),
        events.on('cacheCorrupt', (e) => metrics.cacheErrors.inc({ store: metrics.storeLabel(e.store), kind: 'corrupt' })),
        events.on('circuit', (e) => gauges.circuitOpen.set(metrics.storeLabel(e.store), e.open)),
        events.on('stateDropped', (e) => statesDropped(e.operation).inc()),
        events.on('watchEvent', (e) => {
          const watched = watchEvents(e.type);
          watched.events.inc();
          // A negative lag is clock skew between this host and the server: counted as none.
          if (!Number.isNaN(e.lagMs)) watched.lag.observe(seconds(e.lagMs));
        }),
        events.on('watchReconnect', (e) => watchReconnects(e.reason).inc()),
        events.on('rosterAnswer', (e) => {
          rosterAnswers(e.store)(e.result).inc();
          // Infinity (never heard from the service yet) is not a staleness to plot: left as it was.
          if (Number.isFinite(e.stalenessMs)) gauges.rosterStalenessSeconds = seconds(e.stalenessMs);
        }),
        events.on('rosterSeed', (e) => rosterSeeds(e.reason)(e.outcome).inc()),
        events.on('rosterLeader', (e) => {
          rosterLeaderChanges(e.role).inc();
          gauges.rosterRole = e.role;
        }),
      ];

      // A closed client's counts stay in the totals (counters never go backwards); it leaves the gauges.
      stack.onClose(() => {
        for (const off of unsubscribe) off();
        metrics.clients.delete(gauges);
      });
    },
  };
}
