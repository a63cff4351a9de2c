import { PresenceConfigurationError } from '@presence/core';
import { Counter, Gauge, type Metric, type Registry, type RegistryContentType } from 'prom-client';
import { TalliedCounter, TalliedHistogram, type Observer, type Tally } from './tallies.js';

/*
 * The closed lists every label value comes from. A value outside its list is counted as `other`
 * (the last value), so no event, however odd, can add a series: cardinality is fixed by these
 * lists and the store cap, never by channels, users or keys.
 */
export const OPERATIONS = ['hereNow', 'whereNow', 'getPresenceState', 'setPresenceState', 'heartbeat', 'leave', 'subscribe', 'other'] as const;
export const OUTCOMES = ['success', 'api_error', 'network_error', 'timeout', 'aborted', 'validation_error', 'protocol_error', 'serialization_error', 'other'] as const;
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'] as const;
export const RETRY_REASONS = ['network_error', 'stale_connection', 'timeout', 'rate_limited', 'server_error', 'other'] as const;
export const CACHE_RESULTS = ['hit_l1', 'hit_l2', 'miss', 'coalesced', 'stale', 'other'] as const;
export const CACHE_ERROR_KINDS = ['error', 'corrupt'] as const;
export const WATCH_EVENT_TYPES = ['join', 'leave', 'timeout', 'stateChange', 'interval', 'other'] as const;
export const WATCH_RECONNECT_REASONS = ['network_error', 'stale_connection', 'timeout', 'rate_limited', 'server_error', 'protocol_error', 'other'] as const;
export const ROSTER_STORES = ['memory', 'mirror', 'other'] as const;
export const ROSTER_ANSWER_RESULTS = ['hit', 'unwatched', 'not_ready', 'stale', 'global', 'write_fence', 'other'] as const;
export const ROSTER_SEED_REASONS = ['initial', 'reconnect', 'refresh', 'mismatch', 'group_change', 'group_refresh', 'takeover', 'other'] as const;
export const ROSTER_SEED_OUTCOMES = ['success', 'error', 'other'] as const;
export const ROSTER_ROLES = ['leader', 'mirror', 'none', 'other'] as const;
/** Most distinct cache store names kept as label values per registry; later ones count as `other`. */
export const MAX_STORES = 8;
/** A store name is a plugin's constant (`memory`, `redis`), never user data; anything else is `other`. */
const STORE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;

/** Metric name suffixes, in registration (and exposition) order. */
const SUFFIXES = [
  ...['operation_duration_seconds', 'operations_total', 'http_requests_total', 'retries_total'],
  ...['cache_lookups_total', 'cache_errors_total', 'cache_circuit_open', 'inflight_operations', 'retry_budget_tokens', 'states_dropped_total'],
  ...['watch_events_total', 'watch_reconnects_total', 'watch_lag_seconds'],
  ...['roster_answers_total', 'roster_staleness_seconds', 'roster_seeds_total', 'roster_leader_changes_total', 'roster_leader'],
] as const;

/** The metric names for a prefix, in exposition order (histogram base names, without `_bucket`). */
export function metricNames(prefix: string): string[] {
  return SUFFIXES.map((suffix) => prefix + suffix);
}

/**
 * A prom-client child bound once for each value of a closed list; the lookup returned picks one
 * with a map read (a value outside the list gets `other`), so prom-client never sees a label
 * object from the hot path.
 */
function bindEach<C>(values: readonly string[], bind: (value: string) => C): (value: string) => C {
  const children = new Map(values.map((value) => [value, bind(value)]));
  const other = children.get(values.at(-1)!)!;
  return (value) => children.get(value) ?? other;
}

/** What one client adds to the gauges; summed over the live clients when Prometheus scrapes. */
export interface ClientGauges {
  /** Calls started and not yet settled, by operation: the client's own count. */
  readonly inflight: Readonly<Partial<Record<string, number>>>;
  /** Store label → whether this client's circuit for that store is open. */
  readonly circuitOpen: Map<string, boolean>;
  /** Undefined until the client's retry budget reports. */
  retryBudgetTokens: number | undefined;
  /** How long its roster had not heard from the service (or its leader) at its last answer, in seconds; undefined until a roster answers. */
  rosterStalenessSeconds: number | undefined;
  /** Its fleet roster's role, once it reported one. */
  rosterRole: string | undefined;
}

export interface Buckets {
  /** Upper bounds in seconds of the call duration histogram. */
  readonly duration: readonly number[];
  /** Upper bounds in seconds of the watch lag histogram. */
  readonly watchLag: readonly number[];
}

const SHARED = Symbol.for('@presence/metrics-prometheus:metrics');
type Marked = Partial<Record<typeof SHARED, PresenceMetrics>>;

const sameBounds = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((bound, i) => bound === b[i]);

/**
 * The prom-client metrics of one prefix in one registry. prom-client refuses a second metric of
 * the same name in a registry, so every client (every plugin instance) on that registry reports
 * into this one set: counters and histograms add up as they are incremented, gauges are summed
 * over the live clients when Prometheus scrapes.
 */
export class PresenceMetrics {
  readonly clients = new Set<ClientGauges>();
  /** Bound children, by operation then the second label. */
  readonly durations: (operation: string) => (outcome: string) => Observer;
  readonly attempts: (operation: string) => (statusClass: string) => Tally;
  readonly retries: (operation: string) => (reason: string) => Counter.Internal;
  readonly cacheLookups: (operation: string) => (result: string) => Tally;
  readonly statesDropped: (operation: string) => Counter.Internal;
  readonly watchEvents: (type: string) => { events: Counter.Internal; lag: Observer };
  readonly watchReconnects: (reason: string) => Counter.Internal;
  readonly rosterAnswers: (store: string) => (result: string) => Tally;
  readonly rosterSeeds: (reason: string) => (outcome: string) => Counter.Internal;
  readonly rosterLeaderChanges: (role: string) => Counter.Internal;
  /** Rare events (store failures) use prom-client's labelled calls. */
  readonly cacheErrors: Counter<'store' | 'kind'>;
  readonly #stores: string[] = [];

  private constructor(registry: Registry<RegistryContentType>, prefix: string, readonly buckets: Buckets) {
    const names = metricNames(prefix);
    const name = (suffix: (typeof SUFFIXES)[number]): string => names[SUFFIXES.indexOf(suffix)]!;
    const registers = [registry];
    const clients = this.clients;

    const duration = new TalliedHistogram({
      name: name('operation_duration_seconds'),
      help: 'Duration of presence calls in seconds, from the call to its result or error, by operation and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [...buckets.duration],
      registers,
    });
    /** The calls counted by the histogram (its `_count` series), by operation and outcome. */
    const countName = `${name('operation_duration_seconds')}_count`;
    const completed = async (): Promise<Array<{ labels: Partial<Record<'operation' | 'outcome', string | number>>; value: number }>> =>
      (await duration.get()).values.filter((value) => value.metricName === countName);
    const calls = new Counter({
      name: name('operations_total'),
      help: 'Presence calls completed, by operation and outcome.',
      labelNames: ['operation', 'outcome'],
      registers,
      // The histogram's `_count` under its own name, filled when Prometheus scrapes: a call costs
      // one prom-client update, not two, and error ratios need no histogram.
      async collect() {
        const counts = await completed();
        this.reset();
        for (const { labels, value } of counts) this.inc(labels, value);
      },
    });
    const httpRequests = new TalliedCounter({
      name: name('http_requests_total'),
      help: 'HTTP attempts sent upstream (each retry counts), by operation and status class; status_class="none" when no response arrived.',
      labelNames: ['operation', 'status_class'],
      registers,
    });
    const retries = new Counter({ name: name('retries_total'), help: 'Retries scheduled, by operation and reason.', labelNames: ['operation', 'reason'], registers });
    const cacheLookups = new TalliedCounter({
      name: name('cache_lookups_total'),
      help: 'Here-now cache lookups, by operation and result (hit_l1, hit_l2, miss, coalesced, stale).',
      labelNames: ['operation', 'result'],
      registers,
    });
    this.cacheErrors = new Counter({ name: name('cache_errors_total'), help: 'Cache store failures (kind="error", the cache failed open) and corrupt entries discarded (kind="corrupt"), by store.', labelNames: ['store', 'kind'], registers });
    const circuitOpen = new Gauge({
      name: name('cache_circuit_open'),
      help: 'Whether the cache store circuit is open (1) or closed (0), by store; with several clients on one registry, how many have it open.',
      labelNames: ['store'],
      registers,
      collect() {
        this.reset();
        for (const client of clients) for (const [store, open] of client.circuitOpen) this.inc({ store }, open ? 1 : 0);
      },
    });
    const inflight = new Gauge({
      name: name('inflight_operations'),
      help: 'Presence calls started and not yet settled, by operation.',
      labelNames: ['operation'],
      registers,
      // An operation's series appears once it has been called, as a counter's does.
      async collect() {
        const called = new Set((await completed()).map((value) => value.labels.operation));
        this.reset();
        for (const operation of OPERATIONS) {
          let count = 0;
          for (const client of clients) count += client.inflight[operation] ?? 0;
          if (count > 0 || called.has(operation)) this.set({ operation }, count);
        }
      },
    });
    const retryBudget = new Gauge({
      name: name('retry_budget_tokens'),
      help: 'Tokens left in the retry budget (summed over the clients sharing this registry); absent until a retry budget reports.',
      registers,
      collect() {
        const reported = [...clients].filter((client) => client.retryBudgetTokens !== undefined);
        if (reported.length === 0) this.remove();
        else this.set(reported.reduce((sum, client) => sum + client.retryBudgetTokens!, 0));
      },
    });
    const statesDropped = new Counter({ name: name('states_dropped_total'), help: 'User states in responses that failed to decode and were left out (invalidState: "omit"), by operation.', labelNames: ['operation'], registers });
    const watchEvents = new Counter({ name: name('watch_events_total'), help: 'Presence events delivered by watch(), by type.', labelNames: ['type'], registers });
    const watchReconnects = new Counter({ name: name('watch_reconnects_total'), help: 'Reconnects of watch() after its long-poll failed, by reason.', labelNames: ['reason'], registers });
    const watchLag = new TalliedHistogram({
      name: name('watch_lag_seconds'),
      help: 'Lag of the presence events delivered by watch(), by type: now minus the event timestamp, in seconds (clock skew with the server included; a negative lag counts as 0).',
      labelNames: ['type'],
      buckets: [...buckets.watchLag],
      registers,
    });

    const rosterAnswers = new TalliedCounter({
      name: name('roster_answers_total'),
      help: 'Here-now calls a roster met, by store (memory: its own roster, mirror: a fleet leader\'s) and result: hit when answered from memory, else why it let the call through (unwatched, not_ready, stale, global, write_fence).',
      labelNames: ['store', 'result'],
      registers,
    });
    const rosterStaleness = new Gauge({
      name: name('roster_staleness_seconds'),
      help: 'How long the roster had not heard from the service (a mirror: from its leader) at its last answer, in seconds; the largest over the clients sharing this registry. Absent until a roster answers.',
      registers,
      collect() {
        const reported = [...clients].map((client) => client.rosterStalenessSeconds).filter((value): value is number => value !== undefined);
        if (reported.length === 0) this.remove();
        else this.set(Math.max(...reported));
      },
    });
    const rosterSeeds = new Counter({ name: name('roster_seeds_total'), help: 'Here-now reads a roster made to seed or re-seed channels, by reason (initial, reconnect, refresh, mismatch, group_change, group_refresh, takeover) and outcome.', labelNames: ['reason', 'outcome'], registers });
    const rosterLeaderChanges = new Counter({ name: name('roster_leader_changes_total'), help: 'Role changes of a fleet roster (redisRoster), by the role taken: leader, mirror or none.', labelNames: ['role'], registers });
    const rosterLeader = new Gauge({
      name: name('roster_leader'),
      help: 'Whether this process leads its fleet roster (1) or not (0); summed over the fleet it should be 1. Absent without a fleet roster.',
      registers,
      collect() {
        const roles = [...clients].map((client) => client.rosterRole).filter((role) => role !== undefined);
        if (roles.length === 0) this.remove();
        else this.set(roles.filter((role) => role === 'leader').length);
      },
    });

    // Marked as this set's, so the next plugin instance on this registry finds the set and joins it.
    const all: Metric[] = [duration, calls, httpRequests, retries, cacheLookups, this.cacheErrors, circuitOpen, inflight, retryBudget, statesDropped, watchEvents, watchReconnects, watchLag, rosterAnswers, rosterStaleness, rosterSeeds, rosterLeaderChanges, rosterLeader];
    for (const metric of all) Object.defineProperty(metric, SHARED, { value: this });

    this.durations = bindEach(OPERATIONS, (operation) => bindEach(OUTCOMES, (outcome) => duration.tally(operation, outcome)));
    this.attempts = bindEach(OPERATIONS, (operation) => bindEach(STATUS_CLASSES, (statusClass) => httpRequests.tally(operation, statusClass)));
    this.retries = bindEach(OPERATIONS, (operation) => bindEach(RETRY_REASONS, (reason) => retries.labels(operation, reason)));
    this.cacheLookups = bindEach(OPERATIONS, (operation) => bindEach(CACHE_RESULTS, (result) => cacheLookups.tally(operation, result)));
    this.statesDropped = bindEach(OPERATIONS, (operation) => statesDropped.labels(operation));
    this.watchEvents = bindEach(WATCH_EVENT_TYPES, (type) => ({ events: watchEvents.labels(type), lag: watchLag.tally(type) }));
    this.watchReconnects = bindEach(WATCH_RECONNECT_REASONS, (reason) => watchReconnects.labels(reason));
    this.rosterAnswers = bindEach(ROSTER_STORES, (store) => bindEach(ROSTER_ANSWER_RESULTS, (result) => rosterAnswers.tally(store, result)));
    this.rosterSeeds = bindEach(ROSTER_SEED_REASONS, (reason) => bindEach(ROSTER_SEED_OUTCOMES, (outcome) => rosterSeeds.labels(reason, outcome)));
    this.rosterLeaderChanges = bindEach(ROSTER_ROLES, (role) => rosterLeaderChanges.labels(role));
  }

  /** Finds this prefix's metrics in the registry (made by another plugin instance) or registers them. */
  static open(registry: Registry<RegistryContentType>, prefix: string, buckets: Buckets): PresenceMetrics {
    const names = metricNames(prefix);
    const found = names.map((name) => registry.getSingleMetric(name) as Marked | undefined);
    if (found.every((metric) => metric === undefined)) return new PresenceMetrics(registry, prefix, buckets);
    const fail = (field: string, message: string): never => {
      throw new PresenceConfigurationError(field, `prometheusMetrics: ${message}`);
    };
    const foreign = found.findIndex((metric) => metric !== undefined && metric[SHARED] === undefined);
    if (foreign >= 0) fail('prefix', `the registry already has a metric named "${names[foreign]}" that this plugin did not register; pass another prefix or another registry.`);
    const shared = new Set(found.map((metric) => metric?.[SHARED]));
    const [metrics] = shared;
    if (shared.size !== 1 || metrics === undefined) {
      return fail('prefix', `the registry holds only some of the metrics with prefix "${prefix}" (was one removed with removeSingleMetric?); pass another prefix or another registry.`);
    }
    for (const field of ['duration', 'watchLag'] as const) {
      if (!sameBounds(metrics.buckets[field], buckets[field])) {
        fail(
          field === 'duration' ? 'buckets' : 'watchLagBuckets',
          `the registry already has presence metrics with prefix "${prefix}" and ${field === 'duration' ? 'buckets' : 'watchLagBuckets'} [${metrics.buckets[field].join(', ')}]; every client sharing a registry must use the same bounds (got [${buckets[field].join(', ')}]).`,
        );
      }
    }
    return metrics;
  }

  /** The label value for a store name: the first MAX_STORES plausible names per registry, then `other`. */
  storeLabel(store: string): string {
    if (this.#stores.includes(store)) return store;
    if (typeof store !== 'string' || !STORE_NAME.test(store) || this.#stores.length >= MAX_STORES) return 'other';
    this.#stores.push(store);
    return store;
  }
}
