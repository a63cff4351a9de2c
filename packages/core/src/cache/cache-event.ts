import { noteCacheResult } from '../call-scope.js';
import { listenerTableOf, type CacheResult, type PresenceEventMap, type PresenceEvents } from '../events.js';
import type { Call, OperationName } from '../types.js';

type Payload = PresenceEventMap['cache'];
const RESULTS: readonly CacheResult[] = ['hit_l1', 'hit_l2', 'miss', 'coalesced', 'stale'];

/** Frozen `cache` payloads of one store, by result and operation name. */
export type CacheEventTable = Readonly<Record<CacheResult, Readonly<Record<string, Payload>>>>;

// Per process, and only frozen constants: the possible payloads, built once, so reporting a cache
// decision allocates nothing and looks up two small objects.
const tables = new Map<string, Record<CacheResult, Record<string, Payload>>>();

function tableOf(store: string): Record<CacheResult, Record<string, Payload>> {
  let table = tables.get(store);
  if (!table) {
    table = Object.fromEntries(RESULTS.map((result) => [result, {}])) as Record<CacheResult, Record<string, Payload>>;
    tables.set(store, table);
  }
  return table;
}

/** The `cache` event payload for an operation, a result and a store: the same frozen object every time. */
export function cacheEvent(operation: OperationName, result: CacheResult, store: string): Payload {
  const byOperation = tableOf(store)[result];
  return (byOperation[operation] ??= Object.freeze({ operation, result, store }));
}

/** A store's table, filled for the six operations up front; look up `table[result][operation] ?? cacheEvent(...)`. */
export function cacheEvents(store: string): CacheEventTable {
  const table = tableOf(store);
  const operations: OperationName[] = ['hereNow', 'whereNow', 'getPresenceState', 'setPresenceState', 'heartbeat', 'leave'];
  for (const result of RESULTS) for (const operation of operations) cacheEvent(operation, result, store);
  return table;
}

/** Reports one lookup of a cache: see `cacheReporter`. */
export type CacheReport = (call: Call, result: CacheResult) => void;

/**
 * How a cache plugin reports a lookup's result: noted on the call, so its `callEnd` event says
 * how it was answered, and emitted as a `cache` event when anyone listens. The payloads are the
 * frozen constants above, so reporting a hit allocates nothing.
 */
export function cacheReporter(events: PresenceEvents, store: string): CacheReport {
  const table = cacheEvents(store);
  const listeners = listenerTableOf(events);
  return (call, result) => {
    noteCacheResult(call, result);
    if (listeners.cache.length !== 0) {
      const operation = call.operation.name;
      events.emit('cache', table[result][operation] ?? cacheEvent(operation, result, store));
    }
  };
}
