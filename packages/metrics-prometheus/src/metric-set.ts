import { PresenceConfigurationError } from '@presence/core';
import type { Metric, Registry, RegistryContentType } from 'prom-client';
import { Cells, type CounterArray } from './cells.js';
import {
  CACHE_ERROR_KINDS,
  CACHE_RESULTS,
  MAX_STORES,
  OPERATIONS,
  OUTCOMES,
  RETRY_REASONS,
  STATUS_CLASSES,
  StoreNames,
} from './labels.js';

type Labels = Record<string, string | number>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}
type MetricKind = 'counter' | 'gauge' | 'histogram';

interface Definition {
  readonly suffix: string;
  readonly type: MetricKind;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Counter arrays this metric reads; zeroed by `registry.resetMetrics()`. */
  readonly counters: readonly CounterArray[];
  samples(set: MetricSet, name: string): Sample[];
}

/** Every metric, in exposition order. Names follow Prometheus conventions (`_total`, `_seconds`). */
const DEFINITIONS: readonly Definition[] = [
  {
    suffix: 'operation_duration_seconds',
    type: 'histogram',
    help: 'Duration of presence calls in seconds, from the call to its result or error, by operation and outcome.',
    labelNames: ['operation', 'outcome'],
    counters: ['calls', 'durationSumMs', 'durationBuckets'],
    samples: (set, name) => histogramSamples(set, name),
  },
  {
    suffix: 'operations_total',
    type: 'counter',
    help: 'Presence calls completed, by operation and outcome.',
    labelNames: ['operation', 'outcome'],
    counters: ['calls'],
    samples: (set) => grid(set.sum('calls'), 'operation', OPERATIONS, 'outcome', OUTCOMES),
  },
  {
    suffix: 'http_requests_total',
    type: 'counter',
    help: 'HTTP attempts sent upstream (each retry counts), by operation and status class; status_class="none" when no response arrived.',
    labelNames: ['operation', 'status_class'],
    counters: ['httpRequests'],
    samples: (set) => grid(set.sum('httpRequests'), 'operation', OPERATIONS, 'status_class', STATUS_CLASSES),
  },
  {
    suffix: 'retries_total',
    type: 'counter',
    help: 'Retries scheduled, by operation and reason.',
    labelNames: ['operation', 'reason'],
    counters: ['retries'],
    samples: (set) => grid(set.sum('retries'), 'operation', OPERATIONS, 'reason', RETRY_REASONS),
  },
  {
    suffix: 'cache_lookups_total',
    type: 'counter',
    help: 'Here-now cache lookups, by operation and result (hit_l1, hit_l2, miss, coalesced, stale).',
    labelNames: ['operation', 'result'],
    counters: ['cacheLookups'],
    samples: (set) => grid(set.sum('cacheLookups'), 'operation', OPERATIONS, 'result', CACHE_RESULTS),
  },
  {
    suffix: 'cache_errors_total',
    type: 'counter',
    help: 'Cache store failures (kind="error", the cache failed open) and corrupt entries discarded (kind="corrupt"), by store.',
    labelNames: ['store', 'kind'],
    counters: ['cacheErrors'],
    samples: (set) => {
      const totals = set.sum('cacheErrors');
      const out: Sample[] = [];
      for (let s = 0; s <= MAX_STORES; s++) {
        for (let k = 0; k < CACHE_ERROR_KINDS.length; k++) {
          const value = totals[s * CACHE_ERROR_KINDS.length + k]!;
          if (value > 0) out.push({ labels: { store: set.stores.nameAt(s), kind: CACHE_ERROR_KINDS[k]! }, value });
        }
      }
      return out;
    },
  },
  {
    suffix: 'cache_circuit_open',
    type: 'gauge',
    help: 'Whether the cache store circuit is open (1) or closed (0), by store; with several clients on one registry, how many have it open.',
    labelNames: ['store'],
    counters: [],
    samples: (set) => {
      const out: Sample[] = [];
      for (let s = 0; s <= MAX_STORES; s++) {
        let reported = false;
        let open = 0;
        for (const cells of set.live) {
          const value = cells.circuitOpen[s]!;
          if (Number.isNaN(value)) continue;
          reported = true;
          open += value;
        }
        if (reported) out.push({ labels: { store: set.stores.nameAt(s) }, value: open });
      }
      return out;
    },
  },
  {
    suffix: 'inflight_operations',
    type: 'gauge',
    help: 'Presence calls started and not yet settled, by operation.',
    labelNames: ['operation'],
    counters: [],
    samples: (set) => {
      const calls = set.sum('calls');
      const out: Sample[] = [];
      for (let o = 0; o < OPERATIONS.length; o++) {
        let inflight = 0;
        for (const cells of set.live) inflight += cells.inflightOf(o);
        let seen = inflight !== 0;
        for (let r = 0; r < OUTCOMES.length && !seen; r++) seen = calls[o * OUTCOMES.length + r]! > 0;
        if (seen) out.push({ labels: { operation: OPERATIONS[o]! }, value: inflight });
      }
      return out;
    },
  },
  {
    suffix: 'retry_budget_tokens',
    type: 'gauge',
    help: 'Tokens left in the retry budget (summed over the clients sharing this registry); absent until a retry budget reports.',
    labelNames: [],
    counters: [],
    samples: (set) => {
      let reported = false;
      let tokens = 0;
      for (const cells of set.live) {
        if (Number.isNaN(cells.retryBudgetTokens)) continue;
        reported = true;
        tokens += cells.retryBudgetTokens;
      }
      return reported ? [{ labels: {}, value: tokens }] : [];
    },
  },
  {
    suffix: 'states_dropped_total',
    type: 'counter',
    help: 'User states in responses that failed to decode and were left out (invalidState: "omit"), by operation.',
    labelNames: ['operation'],
    counters: ['statesDropped'],
    samples: (set) => {
      const totals = set.sum('statesDropped');
      const out: Sample[] = [];
      for (let o = 0; o < OPERATIONS.length; o++) {
        if (totals[o]! > 0) out.push({ labels: { operation: OPERATIONS[o]! }, value: totals[o]! });
      }
      return out;
    },
  },
];

/** The metric names for a prefix, in exposition order (histogram base names, without `_bucket`). */
export function metricNames(prefix: string): string[] {
  return DEFINITIONS.map((d) => prefix + d.suffix);
}

/** Only label combinations that have counted something become series, as prom-client does. */
function grid(totals: Float64Array, rowLabel: string, rows: readonly string[], columnLabel: string, columns: readonly string[]): Sample[] {
  const out: Sample[] = [];
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < columns.length; c++) {
      const value = totals[r * columns.length + c]!;
      if (value > 0) out.push({ labels: { [rowLabel]: rows[r]!, [columnLabel]: columns[c]! }, value });
    }
  }
  return out;
}

function histogramSamples(set: MetricSet, name: string): Sample[] {
  const calls = set.sum('calls');
  const sums = set.sum('durationSumMs');
  const buckets = set.sum('durationBuckets');
  const bounds = set.buckets;
  const stride = bounds.length + 1;
  const out: Sample[] = [];
  for (let o = 0; o < OPERATIONS.length; o++) {
    for (let r = 0; r < OUTCOMES.length; r++) {
      const cell = o * OUTCOMES.length + r;
      const count = calls[cell]!;
      if (count === 0) continue;
      const operation = OPERATIONS[o]!;
      const outcome = OUTCOMES[r]!;
      let cumulative = 0;
      for (let b = 0; b < bounds.length; b++) {
        cumulative += buckets[cell * stride + b]!;
        out.push({ metricName: `${name}_bucket`, labels: { operation, outcome, le: bounds[b]! }, value: cumulative });
      }
      out.push(
        { metricName: `${name}_bucket`, labels: { operation, outcome, le: '+Inf' }, value: count },
        { metricName: `${name}_sum`, labels: { operation, outcome }, value: sums[cell]! / 1000 },
        { metricName: `${name}_count`, labels: { operation, outcome }, value: count },
      );
    }
  }
  return out;
}

const BRAND = Symbol.for('@presence/metrics-prometheus:collector');

/**
 * A metric as prom-client's Registry sees it (name, help, type, aggregator, get, reset), whose
 * values are read from the clients' cells at scrape time.
 */
class PresenceCollector {
  readonly [BRAND] = true;
  readonly help: string;
  readonly type: MetricKind;
  readonly aggregator = 'sum';
  readonly labelNames: readonly string[];

  constructor(
    /** Not readonly: an OpenMetrics registry renames counters (drops `_total`) while exposing them. */
    public name: string,
    readonly set: MetricSet,
    readonly definition: Definition,
  ) {
    this.help = definition.help;
    this.type = definition.type;
    this.labelNames = definition.labelNames;
  }

  get(): Promise<{ name: string; help: string; type: MetricKind; aggregator: string; values: Sample[] }> {
    // prom-client awaits it; the figures are already in memory.
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.definition.samples(this.set, this.name) });
  }

  /** `registry.resetMetrics()`: counters and histograms start over; gauges keep the live state. */
  reset(): void {
    for (const array of this.definition.counters) {
      this.set.retired[array].fill(0);
      for (const cells of this.set.live) cells[array].fill(0);
    }
  }
}

function isCollector(value: unknown): value is PresenceCollector {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * The metrics of one prefix in one registry, and the cells of every client reporting into them.
 * Several clients (several plugin instances) on one registry share one set: their figures add up.
 */
export class MetricSet {
  readonly live = new Set<Cells>();
  /** Counters of closed clients, so totals never go backwards. */
  readonly retired: Cells;
  readonly stores = new StoreNames();
  /** Upper bounds in seconds, increasing, without +Inf. */
  readonly buckets: readonly number[];

  private constructor(buckets: readonly number[]) {
    this.buckets = Object.freeze([...buckets]);
    this.retired = new Cells(buckets.length);
  }

  /** Finds this prefix's metrics in the registry (made by another plugin instance) or registers them. */
  static open(registry: Registry<RegistryContentType>, prefix: string, buckets: readonly number[]): MetricSet {
    const names = metricNames(prefix);
    const found = names.map((name) => registry.getSingleMetric(name) as unknown);
    if (found.every((metric) => metric === undefined)) {
      const set = new MetricSet(buckets);
      DEFINITIONS.forEach((definition, i) => {
        registry.registerMetric(new PresenceCollector(names[i]!, set, definition) as unknown as Metric);
      });
      return set;
    }
    const foreign = found.findIndex((metric) => metric !== undefined && !isCollector(metric));
    if (foreign >= 0) {
      throw new PresenceConfigurationError(
        'prefix',
        `prometheusMetrics: the registry already has a metric named "${names[foreign]}" that this plugin did not register; pass another prefix or another registry.`,
      );
    }
    const sets = new Set(found.map((metric) => (isCollector(metric) ? metric.set : undefined)));
    const [set] = sets;
    if (sets.size !== 1 || set === undefined) {
      throw new PresenceConfigurationError(
        'prefix',
        `prometheusMetrics: the registry holds only some of the metrics with prefix "${prefix}" (was one removed with removeSingleMetric?); pass another prefix or another registry.`,
      );
    }
    if (set.buckets.length !== buckets.length || set.buckets.some((bound, i) => bound !== buckets[i])) {
      throw new PresenceConfigurationError(
        'buckets',
        `prometheusMetrics: the registry already has presence metrics with prefix "${prefix}" and buckets [${set.buckets.join(', ')}]; every client sharing a registry must use the same buckets (got [${buckets.join(', ')}]).`,
      );
    }
    return set;
  }

  /** A client starts reporting: it gets its own cells. */
  attach(): Cells {
    const cells = new Cells(this.buckets.length);
    this.live.add(cells);
    return cells;
  }

  /** A client closed: its counters stay in the totals, its gauges leave. */
  detach(cells: Cells): void {
    if (!this.live.delete(cells)) return;
    this.retired.absorb(cells);
  }

  /** One counter array summed over every client, live and closed. */
  sum(array: CounterArray): Float64Array {
    const total = Float64Array.from(this.retired[array]);
    for (const cells of this.live) {
      const from = cells[array];
      for (let i = 0; i < total.length; i++) total[i]! += from[i]!;
    }
    return total;
  }
}
