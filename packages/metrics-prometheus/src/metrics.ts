import { PresenceConfigurationError } from '@presence/core';
import { Counter, Gauge, Histogram, type Registry, type RegistryContentType } from 'prom-client';

/*
 * The closed lists every label value comes from. A value outside its list is counted as `other`,
 * so no event, however odd, can add a series: cardinality is fixed by these lists and the store
 * cap, never by channels, users or keys.
 */
export const OPERATIONS = ['hereNow', 'whereNow', 'getPresenceState', 'setPresenceState', 'heartbeat', 'leave', 'other'] as const;
export const OUTCOMES = ['success', 'api_error', 'network_error', 'timeout', 'aborted', 'validation_error', 'protocol_error', 'serialization_error', 'other'] as const;
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'] as const;
export const RETRY_REASONS = ['network_error', 'timeout', 'rate_limited', 'server_error', 'other'] as const;
export const CACHE_RESULTS = ['hit_l1', 'hit_l2', 'miss', 'coalesced', 'stale', 'other'] as const;
export const CACHE_ERROR_KINDS = ['error', 'corrupt'] as const;
/** Most distinct cache store names kept as label values per registry; later ones count as `other`. */
export const MAX_STORES = 8;
/** A store name is a plugin's constant (`memory`, `redis`), never user data; anything else is `other`. */
const STORE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;

/** Metric name suffixes, in registration (and exposition) order. */
const SUFFIXES = [
  'operation_duration_seconds',
  'operations_total',
  'http_requests_total',
  'retries_total',
  'cache_lookups_total',
  'cache_errors_total',
  'cache_circuit_open',
  'inflight_operations',
  'retry_budget_tokens',
  'states_dropped_total',
] as const;

/** The metric names for a prefix, in exposition order (histogram base names, without `_bucket`). */
export function metricNames(prefix: string): string[] {
  return SUFFIXES.map((suffix) => prefix + suffix);
}

/** What one client adds to the gauges; summed over the live clients when Prometheus scrapes. */
export interface ClientGauges {
  /** Calls started and not yet settled, by operation: the client's own count. */
  readonly inflight: Readonly<Partial<Record<string, number>>>;
  /** Store label → whether this client's circuit for that store is open. */
  readonly circuitOpen: Map<string, boolean>;
  /** Undefined until the client's retry budget reports. */
  retryBudgetTokens: number | undefined;
}

/**
 * prom-client children bound once for every pair of label values. A listener picks one with two
 * map reads; prom-client then never sees a label object. A value outside its list gets the list's
 * last value (`other`).
 */
export class Children<C> {
  readonly #rows: Map<string, Map<string, C>>;
  readonly #otherRow: Map<string, C>;
  readonly #otherColumn: string;

  constructor(rows: readonly string[], columns: readonly string[], bind: (row: string, column: string) => C) {
    this.#rows = new Map(rows.map((row) => [row, new Map(columns.map((column) => [column, bind(row, column)]))]));
    this.#otherRow = this.#rows.get(rows.at(-1)!)!;
    this.#otherColumn = columns.at(-1)!;
  }

  /** Whether a row value is in its list. */
  has(row: string): boolean {
    return this.#rows.has(row);
  }

  of(row: string, column: string): C {
    const columns = this.#rows.get(row) ?? this.#otherRow;
    return columns.get(column) ?? columns.get(this.#otherColumn)!;
  }
}

const SHARED = Symbol.for('@presence/metrics-prometheus:metrics');

/**
 * The prom-client metrics of one prefix in one registry. prom-client refuses a second metric of
 * the same name in a registry, so every client (every plugin instance) on that registry reports
 * into this one set: counters and histograms add up as they are incremented, gauges are summed
 * over the live clients at scrape time.
 */
export class PresenceMetrics {
  readonly clients = new Set<ClientGauges>();
  readonly duration: Histogram<'operation' | 'outcome'>;
  readonly calls: Counter<'operation' | 'outcome'>;
  readonly httpRequests: Counter<'operation' | 'status_class'>;
  readonly retries: Counter<'operation' | 'reason'>;
  readonly cacheLookups: Counter<'operation' | 'result'>;
  readonly cacheErrors: Counter<'store' | 'kind'>;
  readonly statesDropped: Counter<'operation'>;
  /** The hot path's children: the end of a call (histogram and counter), HTTP attempts, cache lookups. */
  readonly ends: Children<{ duration: Histogram.Internal<'operation' | 'outcome'>; calls: Counter.Internal }>;
  readonly attempts: Children<Counter.Internal>;
  readonly lookups: Children<Counter.Internal>;
  readonly retryChildren: Children<Counter.Internal>;
  readonly #stores: string[] = [];

  private constructor(registry: Registry<RegistryContentType>, prefix: string, readonly buckets: readonly number[]) {
    const [duration, calls, httpRequests, retries, cacheLookups, cacheErrors, circuitOpen, inflight, retryBudget, statesDropped] = metricNames(prefix);
    const registers = [registry];
    this.duration = new Histogram({
      name: duration!,
      help: 'Duration of presence calls in seconds, from the call to its result or error, by operation and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [...buckets],
      registers,
    });
    this.calls = new Counter({ name: calls!, help: 'Presence calls completed, by operation and outcome.', labelNames: ['operation', 'outcome'], registers });
    this.httpRequests = new Counter({
      name: httpRequests!,
      help: 'HTTP attempts sent upstream (each retry counts), by operation and status class; status_class="none" when no response arrived.',
      labelNames: ['operation', 'status_class'],
      registers,
    });
    this.retries = new Counter({ name: retries!, help: 'Retries scheduled, by operation and reason.', labelNames: ['operation', 'reason'], registers });
    this.cacheLookups = new Counter({
      name: cacheLookups!,
      help: 'Here-now cache lookups, by operation and result (hit_l1, hit_l2, miss, coalesced, stale).',
      labelNames: ['operation', 'result'],
      registers,
    });
    this.cacheErrors = new Counter({
      name: cacheErrors!,
      help: 'Cache store failures (kind="error", the cache failed open) and corrupt entries discarded (kind="corrupt"), by store.',
      labelNames: ['store', 'kind'],
      registers,
    });
    const clients = this.clients;
    const completed = this.calls;
    const circuitGauge = new Gauge({
      name: circuitOpen!,
      help: 'Whether the cache store circuit is open (1) or closed (0), by store; with several clients on one registry, how many have it open.',
      labelNames: ['store'],
      registers,
      collect() {
        this.reset();
        for (const client of clients) for (const [store, open] of client.circuitOpen) this.inc({ store }, open ? 1 : 0);
      },
    });
    const inflightGauge = new Gauge({
      name: inflight!,
      help: 'Presence calls started and not yet settled, by operation.',
      labelNames: ['operation'],
      registers,
      // An operation's series appears once it has been called, as prom-client's counters do.
      async collect() {
        const called = new Set((await completed.get()).values.map((value) => value.labels.operation));
        this.reset();
        for (const operation of OPERATIONS) {
          let count = 0;
          for (const client of clients) count += client.inflight[operation] ?? 0;
          if (count > 0 || called.has(operation)) this.set({ operation }, count);
        }
      },
    });
    const retryBudgetGauge = new Gauge({
      name: retryBudget!,
      help: 'Tokens left in the retry budget (summed over the clients sharing this registry); absent until a retry budget reports.',
      registers,
      collect() {
        const reported = [...clients].filter((client) => client.retryBudgetTokens !== undefined);
        if (reported.length === 0) this.remove();
        else this.set(reported.reduce((sum, client) => sum + client.retryBudgetTokens!, 0));
      },
    });
    this.statesDropped = new Counter({
      name: statesDropped!,
      help: 'User states in responses that failed to decode and were left out (invalidState: "omit"), by operation.',
      labelNames: ['operation'],
      registers,
    });
    // Marks the metrics as this set's, so the next plugin instance on this registry finds the set.
    for (const metric of [this.duration, this.calls, this.httpRequests, this.retries, this.cacheLookups, this.cacheErrors, circuitGauge, inflightGauge, retryBudgetGauge, this.statesDropped]) {
      Object.defineProperty(metric, SHARED, { value: this });
    }

    this.ends = new Children(OPERATIONS, OUTCOMES, (operation, outcome) => ({
      duration: this.duration.labels(operation, outcome),
      calls: this.calls.labels(operation, outcome),
    }));
    this.attempts = new Children(OPERATIONS, STATUS_CLASSES, (operation, statusClass) => this.httpRequests.labels(operation, statusClass));
    this.lookups = new Children(OPERATIONS, CACHE_RESULTS, (operation, result) => this.cacheLookups.labels(operation, result));
    this.retryChildren = new Children(OPERATIONS, RETRY_REASONS, (operation, reason) => this.retries.labels(operation, reason));
  }

  /** Finds this prefix's metrics in the registry (made by another plugin instance) or registers them. */
  static open(registry: Registry<RegistryContentType>, prefix: string, buckets: readonly number[]): PresenceMetrics {
    const names = metricNames(prefix);
    const found = names.map((name) => registry.getSingleMetric(name) as unknown as Partial<Record<typeof SHARED, PresenceMetrics>> | undefined);
    if (found.every((metric) => metric === undefined)) return new PresenceMetrics(registry, prefix, buckets);
    const foreign = found.findIndex((metric) => metric !== undefined && metric[SHARED] === undefined);
    if (foreign >= 0) {
      throw new PresenceConfigurationError(
        'prefix',
        `prometheusMetrics: the registry already has a metric named "${names[foreign]}" that this plugin did not register; pass another prefix or another registry.`,
      );
    }
    const shared = new Set(found.map((metric) => metric?.[SHARED]));
    const [metrics] = shared;
    if (shared.size !== 1 || metrics === undefined) {
      throw new PresenceConfigurationError(
        'prefix',
        `prometheusMetrics: the registry holds only some of the metrics with prefix "${prefix}" (was one removed with removeSingleMetric?); pass another prefix or another registry.`,
      );
    }
    if (metrics.buckets.length !== buckets.length || metrics.buckets.some((bound, i) => bound !== buckets[i])) {
      throw new PresenceConfigurationError(
        'buckets',
        `prometheusMetrics: the registry already has presence metrics with prefix "${prefix}" and buckets [${metrics.buckets.join(', ')}]; every client sharing a registry must use the same buckets (got [${buckets.join(', ')}]).`,
      );
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
