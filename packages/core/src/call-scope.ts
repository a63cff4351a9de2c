import type { DeadlineScope } from './deadline.js';
import type { CacheResult } from './events.js';
import type { Call } from './types.js';

/**
 * Where a call frame keeps its scope (deadline, signal, notes). The scope is one object per call,
 * reached by reference, so a middleware's `{ ...call }` copy still notes on the same call.
 */
export const CALL_SCOPE: unique symbol = Symbol('presence call scope');

/** Notes how a cache answered this call; its `callEnd` event carries the last note. */
export function noteCacheResult(call: Call, result: CacheResult): void {
  const scope = (call as { [CALL_SCOPE]?: DeadlineScope })[CALL_SCOPE];
  if (scope !== undefined) scope.cache = result;
}
