/**
 * The closed sets every label value comes from. A value outside its set is counted as `other`,
 * so no event, however odd, can add a series: cardinality is fixed by these lists and the
 * store cap, never by channels, users or keys.
 */

export const OPERATIONS = ['hereNow', 'whereNow', 'getPresenceState', 'setPresenceState', 'heartbeat', 'leave', 'other'] as const;
export const OUTCOMES = [
  'success',
  'api_error',
  'network_error',
  'timeout',
  'aborted',
  'validation_error',
  'protocol_error',
  'serialization_error',
  'other',
] as const;
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'] as const;
export const RETRY_REASONS = ['network_error', 'timeout', 'rate_limited', 'server_error', 'other'] as const;
export const CACHE_RESULTS = ['hit_l1', 'hit_l2', 'miss', 'coalesced', 'stale', 'other'] as const;
export const CACHE_ERROR_KINDS = ['error', 'corrupt'] as const;

/** Most distinct cache store names kept as label values; later ones count as `other`. */
export const MAX_STORES = 8;
/** A store name is a plugin's constant (`memory`, `redis`), never user data; anything else is `other`. */
const STORE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;

/** Name → index lookups (a Map: no prototype keys such as `toString` can match, and lookups stay fast). */
function indexOf<T extends string>(values: readonly T[]): ReadonlyMap<string, number> {
  const index = new Map<string, number>();
  values.forEach((value, i) => {
    if (value !== 'other') index.set(value, i);
  });
  return index;
}

export const OPERATION_INDEX = indexOf(OPERATIONS);
export const OTHER_OPERATION = OPERATIONS.length - 1;
export const OUTCOME_INDEX = indexOf(OUTCOMES);
export const OTHER_OUTCOME = OUTCOMES.length - 1;
export const RETRY_REASON_INDEX = indexOf(RETRY_REASONS);
export const OTHER_RETRY_REASON = RETRY_REASONS.length - 1;
export const CACHE_RESULT_INDEX = indexOf(CACHE_RESULTS);
export const OTHER_CACHE_RESULT = CACHE_RESULTS.length - 1;

/** `1xx`…`5xx` by index 0…4; `none` (5) when no response arrived or the status is not HTTP's. */
export function statusClassIndex(status: number | undefined): number {
  if (status === undefined || !(status >= 100 && status < 600)) return 5;
  return Math.floor(status / 100) - 1;
}

/**
 * Store names seen so far, capped at MAX_STORES; shared by every client on one registry so the
 * label set is fixed per registry, not per client.
 */
export class StoreNames {
  readonly names: string[] = [];
  readonly #index = new Map<string, number>();

  /** Index 0…MAX_STORES-1 for a kept name, MAX_STORES for `other`. */
  indexOf(store: string): number {
    const known = this.#index.get(store);
    if (known !== undefined) return known;
    if (typeof store !== 'string' || !STORE_NAME.test(store) || this.names.length >= MAX_STORES) return MAX_STORES;
    this.names.push(store);
    this.#index.set(store, this.names.length - 1);
    return this.names.length - 1;
  }

  nameAt(index: number): string {
    return index < this.names.length ? this.names[index]! : 'other';
  }
}
