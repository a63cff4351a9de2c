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
export const RETRY_REASONS = ['network_error', 'stale_connection', 'timeout', 'rate_limited', 'server_error', 'other'] as const;
export const CACHE_RESULTS = ['hit_l1', 'hit_l2', 'miss', 'coalesced', 'stale', 'other'] as const;
export const CACHE_ERROR_KINDS = ['error', 'corrupt'] as const;

/** Most distinct cache store names kept as label values; later ones count as `other`. */
export const MAX_STORES = 8;
/** A store name is a plugin's constant (`memory`, `redis`), never user data; anything else is `other`. */
const STORE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;

/**
 * Name → slot for a closed set; anything outside it is `other` (the last slot). This runs on
 * every call, so it is a scan of a few interned strings (a pointer comparison each, the common
 * names first) rather than a keyed lookup, which turns megamorphic when four sets share it.
 */
function slotsOf<T extends string>(values: readonly T[]): (name: string) => number {
  const known: readonly string[] = values.slice(0, -1);
  const other = values.length - 1;
  return (name) => {
    for (let i = 0; i < known.length; i++) if (known[i] === name) return i;
    return other;
  };
}

export const operationSlot = slotsOf(OPERATIONS);
export const outcomeSlot = slotsOf(OUTCOMES);
export const retryReasonSlot = slotsOf(RETRY_REASONS);
export const cacheResultSlot = slotsOf(CACHE_RESULTS);

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
