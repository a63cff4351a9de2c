import { CACHE_ERROR_KINDS, CACHE_RESULTS, MAX_STORES, OPERATIONS, OUTCOMES, RETRY_REASONS, STATUS_CLASSES } from './labels.js';

/** Counter arrays: monotonic, summed across clients, kept when a client closes. */
export const COUNTER_ARRAYS = ['calls', 'durationSumMs', 'durationBuckets', 'httpRequests', 'retries', 'cacheLookups', 'cacheErrors', 'statesDropped'] as const;
export type CounterArray = (typeof COUNTER_ARRAYS)[number];

const OPS = OPERATIONS.length;
const STORES = MAX_STORES + 1;

/**
 * One client's figures as plain numbers, one slot per label combination. The event listeners
 * only add to a slot picked by index: no label object, hash or allocation per call. The
 * registry reads them at scrape time. (prom-client's own bound children hash their labels on
 * every observation, which costs more than a cached call itself; see the README.)
 */
export class Cells {
  /** operation × outcome: completed calls. */
  readonly calls = new Float64Array(OPS * OUTCOMES.length);
  /** operation × outcome: summed durations in milliseconds (exposed in seconds). */
  readonly durationSumMs = new Float64Array(OPS * OUTCOMES.length);
  /** operation × outcome × (buckets + 1): per-bucket (not cumulative) counts; the last is above every bound. */
  readonly durationBuckets: Float64Array;
  /** operation × status class: HTTP attempts. */
  readonly httpRequests = new Float64Array(OPS * STATUS_CLASSES.length);
  /** operation × reason. */
  readonly retries = new Float64Array(OPS * RETRY_REASONS.length);
  /** operation × result. */
  readonly cacheLookups = new Float64Array(OPS * CACHE_RESULTS.length);
  /** store × kind. */
  readonly cacheErrors = new Float64Array(STORES * CACHE_ERROR_KINDS.length);
  readonly statesDropped = new Float64Array(OPS);
  /** operation index → calls started and not yet ended, read from the client at scrape time. */
  inflightOf: (operation: number) => number = () => 0;
  /** store: 1 open, 0 closed, NaN never reported. */
  readonly circuitOpen = new Float64Array(STORES).fill(Number.NaN);
  /** NaN until a retry budget reports. */
  retryBudgetTokens = Number.NaN;

  constructor(bucketCount: number) {
    this.durationBuckets = new Float64Array(OPS * OUTCOMES.length * (bucketCount + 1));
  }

  /** Adds another client's counters into these (when that client closes). */
  absorb(other: Cells): void {
    for (const name of COUNTER_ARRAYS) {
      const into = this[name];
      const from = other[name];
      for (let i = 0; i < into.length; i++) into[i]! += from[i]!;
    }
  }
}
