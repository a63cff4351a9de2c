import type { CacheResult, PresenceEventMap } from '../events.js';
import type { OperationName } from '../types.js';

type Payload = PresenceEventMap['cache'];

// Per process, and only frozen constants: the few possible payloads, built once, so reporting a
// cache decision allocates nothing on the hot path.
const payloads = new Map<string, Map<string, Map<string, Payload>>>();

/** The `cache` event payload for a store, an operation and a result: the same frozen object every time. */
export function cacheEvent(operation: OperationName, result: CacheResult, store: string): Payload {
  let byOperation = payloads.get(store);
  if (!byOperation) payloads.set(store, (byOperation = new Map()));
  let byResult = byOperation.get(operation);
  if (!byResult) byOperation.set(operation, (byResult = new Map()));
  let payload = byResult.get(result);
  if (!payload) byResult.set(result, (payload = Object.freeze({ operation, result, store })));
  return payload;
}
