import { PresenceConfigurationError, rejectUnknownOptions, type OperationName, type Plugin, type Stack } from '@presence/core';
import { Registry, type RegistryContentType } from 'prom-client';
import {
  CACHE_ERROR_KINDS,
  CACHE_RESULTS,
  cacheResultSlot,
  OPERATIONS,
  operationSlot,
  OUTCOMES,
  outcomeSlot,
  RETRY_REASONS,
  retryReasonSlot,
  STATUS_CLASSES,
  statusClassIndex,
} from './labels.js';
import { MetricSet } from './metric-set.js';

export const DEFAULT_PREFIX = 'presence_';

/**
 * Seconds. Cached answers take microseconds, upstream calls tens to hundreds of milliseconds,
 * and a call's deadline is 10 s by default: the bounds cover all three.
 */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** Most bucket bounds accepted: each one is a series per operation and outcome. */
export const MAX_BUCKETS = 40;

/** `R` is the registry's own type, so `plugin.registry` is assignable wherever the caller's registry is (`Registry` by default). */
export interface PrometheusMetricsOptions<R extends Registry<RegistryContentType> = Registry> {
  /** Where the metrics are registered. Default: a new Registry (never prom-client's global one unless you pass it). */
  registry?: R;
  /** Prepended to every metric name. Default `presence_`. Letters, digits and underscores; not starting with a digit. */
  prefix?: string;
  /** Upper bounds in seconds of `<prefix>operation_duration_seconds`, increasing; `+Inf` is always added. */
  buckets?: readonly number[];
}

export interface PrometheusMetricsPlugin<R extends Registry<RegistryContentType> = Registry> extends Plugin {
  readonly name: 'prometheusMetrics';
  /** The registry the metrics live in: serve `await registry.metrics()` at /metrics. */
  readonly registry: R;
  readonly prefix: string;
}

const KNOWN_OPTIONS = new Set(['registry', 'prefix', 'buckets']);
const PREFIX = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function fail(field: string, message: string): never {
  throw new PresenceConfigurationError(field, `prometheusMetrics: ${message}`);
}

function checkRegistry(value: unknown): Registry<RegistryContentType> {
  if (value === undefined) return new Registry();
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- it is needed: `value` is unknown (a false positive of the rule)
  const registry = value as Partial<Registry<RegistryContentType>> | null;
  // Duck-typed, so a registry from another copy of prom-client still works.
  if (typeof registry !== 'object' || registry === null || typeof registry.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function') {
    fail('registry', 'registry must be a prom-client Registry (new Registry() from "prom-client"); leave it out to get a fresh one.');
  }
  return value as Registry<RegistryContentType>;
}

function checkPrefix(value: unknown): string {
  if (value === undefined) return DEFAULT_PREFIX;
  if (typeof value !== 'string' || (value !== '' && !PREFIX.test(value))) {
    fail('prefix', `prefix must be letters, digits and underscores, not starting with a digit (e.g. "presence_"); got ${JSON.stringify(value)}.`);
  }
  return value;
}

function checkBuckets(value: unknown): readonly number[] {
  if (value === undefined) return DEFAULT_DURATION_BUCKETS;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_BUCKETS) {
    fail('buckets', `buckets must be an array of 1 to ${MAX_BUCKETS} upper bounds in seconds, e.g. [0.001, 0.01, 0.1, 1]; got ${Array.isArray(value) ? `${value.length} bounds` : typeof value}.`);
  }
  value.forEach((bound: unknown, i) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= 0) {
      fail('buckets', `buckets[${i}] must be a finite number of seconds above 0 (+Inf is always added); got ${String(bound)}.`);
    }
    if (i > 0 && bound <= (value[i - 1] as number)) {
      fail('buckets', `buckets must be strictly increasing; buckets[${i}] = ${bound} follows ${String(value[i - 1])}.`);
    }
  });
  return value as number[];
}

/**
 * Prometheus metrics for a presence client: calls, their latency and outcome, HTTP attempts,
 * retries, cache lookups, cache store health, inflight calls and the retry budget. It listens
 * to the client's events only, so it works with any cache or retry plugin that reports them.
 * Several clients may share one registry (one plugin each): their figures add up.
 */
export function prometheusMetrics<R extends Registry<RegistryContentType> = Registry>(options: PrometheusMetricsOptions<R> = {}): PrometheusMetricsPlugin<R> {
  if (typeof options !== 'object' || options === null) fail('options', 'pass an options object, e.g. prometheusMetrics({ registry }).');
  rejectUnknownOptions('prometheusMetrics', options, [...KNOWN_OPTIONS]);
  // Without a registry the plugin makes a plain `new Registry()`, which is what R defaults to.
  const registry = checkRegistry(options.registry) as R;
  const prefix = checkPrefix(options.prefix);
  const buckets = checkBuckets(options.buckets);
  // Registered now, so a name clash fails at construction rather than at the first call.
  const set = MetricSet.open(registry, prefix, buckets);

  return {
    name: 'prometheusMetrics',
    registry,
    prefix,
    apply(stack: Stack) {
      const { events } = stack.context;
      const cells = set.attach();
      const { calls, durationSumMs, durationBuckets, httpRequests, retries, cacheLookups, cacheErrors, circuitOpen, statesDropped } = cells;
      // Bounds in milliseconds, the unit durations arrive in: no division per call.
      const boundsMs = Float64Array.from(set.buckets, (seconds) => seconds * 1000);
      const boundCount = boundsMs.length;
      const stride = boundCount + 1;
      const outcomeCount = OUTCOMES.length;
      const statusCount = STATUS_CLASSES.length;
      const reasonCount = RETRY_REASONS.length;
      const resultCount = CACHE_RESULTS.length;
      const kindCount = CACHE_ERROR_KINDS.length;
      const stores = set.stores;

      // Calls in flight are counted by the client itself; the gauge reads them at scrape time.
      const { inflight } = stack.context;
      cells.inflightOf = (operation) => inflight[OPERATIONS[operation] as OperationName] ?? 0;
      // The listeners only add to preallocated slots: no allocation, no label hashing per call.
      const unsubscribe = [
        events.on('callEnd', (e) => {
          const operation = operationSlot(e.operation);
          const cell = operation * outcomeCount + outcomeSlot(e.outcome);
          const ms = e.durationMs >= 0 ? e.durationMs : 0;
          let bucket = 0;
          while (bucket < boundCount && ms > boundsMs[bucket]!) bucket++;
          calls[cell]! += 1;
          durationSumMs[cell]! += ms;
          durationBuckets[cell * stride + bucket]! += 1;
          // The call's end says how a cache answered it: one listener per call, not two.
          if (e.cache !== undefined) cacheLookups[operation * resultCount + cacheResultSlot(e.cache)]! += 1;
        }),
        events.on('attempt', (e) => {
          httpRequests[operationSlot(e.operation) * statusCount + statusClassIndex(e.status)]! += 1;
        }),
        events.on('retry', (e) => {
          retries[operationSlot(e.operation) * reasonCount + retryReasonSlot(e.reason)]! += 1;
        }),
        events.on('retryBudget', (e) => {
          if (Number.isFinite(e.tokens)) cells.retryBudgetTokens = e.tokens;
        }),
        events.on('cacheError', (e) => {
          cacheErrors[stores.indexOf(e.store) * kindCount]! += 1;
        }),
        events.on('cacheCorrupt', (e) => {
          cacheErrors[stores.indexOf(e.store) * kindCount + 1]! += 1;
        }),
        events.on('circuit', (e) => {
          circuitOpen[stores.indexOf(e.store)] = e.open ? 1 : 0;
        }),
        events.on('stateDropped', (e) => {
          statesDropped[operationSlot(e.operation)]! += 1;
        }),
      ];

      stack.onClose(() => {
        for (const off of unsubscribe) off();
        set.detach(cells);
      });
    },
  };
}
