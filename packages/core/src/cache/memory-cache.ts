import { PresenceConfigurationError } from '../errors/configuration-error.js';
import { rejectUnknownOptions } from '../option-keys.js';
import type { Plugin } from '../types.js';
import { cacheKeyOf, cacheTagsOf, invalidationTagsOf } from './cache-key.js';
import { deriveCall } from '../call-scope.js';
import { cacheReporter } from './cache-event.js';
import { deepFreeze } from './deep-freeze.js';
import { createMemoryStore, type MemoryStore } from './memory-store.js';
import { createSingleFlight } from './single-flight.js';

export interface MemoryCacheOptions {
  /** How long a here-now answer is reused. Default 3000 ms, PubNub's own here-now cache time (notes §8). */
  ttlMs?: number;
  /** Most answers kept (LRU). Default 10 000. */
  maxEntries?: number;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

export interface MemoryCachePlugin extends Plugin {
  readonly store: MemoryStore;
}

const MEMORY_CACHE_OPTION_KEYS = Object.keys({ ttlMs: true, maxEntries: true, now: true } satisfies Record<keyof MemoryCacheOptions, true>);

/**
 * The embedded here-now cache: an in-process LRU with single-flight, so identical concurrent
 * calls share one upstream request and repeats within `ttlMs` make none. Writes through the same
 * client (set state, leave, heartbeat with state) drop the answers they make stale.
 * Cached results are frozen: every caller gets the same read-only object.
 */
export function memoryCache(options: MemoryCacheOptions = {}): MemoryCachePlugin {
  rejectUnknownOptions('memoryCache', options, MEMORY_CACHE_OPTION_KEYS, 'memoryCache.');
  const ttlMs = options.ttlMs ?? 3000;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new PresenceConfigurationError('ttlMs', `memoryCache: ttlMs must be a positive number of milliseconds; got ${String(ttlMs)}.`);
  }
  const store = createMemoryStore({ maxEntries: options.maxEntries, now: options.now });
  const flights = createSingleFlight<{ output?: unknown }>();

  return {
    name: 'memoryCache',
    store,
    apply(stack) {
      stack.add(
        (next, { config, events }) => {
          const report = cacheReporter(events, 'memory');
          return async (call) => {
            const { operation } = call;
            if (operation.kind === 'write') {
              const result = await next(call);
              const stale = operation.invalidates?.(call.params);
              // The memory store works synchronously; its promise only fits the CacheStore contract.
              if (stale) void store.invalidate(invalidationTagsOf(stale, config));
              return result;
            }
            const key = cacheKeyOf(operation, call.params, config);
            if (key === undefined) return next(call);
            if (call.fresh) {
              // The caller wants upstream's answer (a roster's seed): no lookup, no shared flight; the answer is still kept.
              const result = await next(call);
              const frozen = deepFreeze(result.output);
              void store.set(key, frozen, { ttlMs, tags: cacheTagsOf(operation, call.params, config) });
              return { ...result, output: frozen };
            }
            const cached = store.get(key);
            if (cached !== undefined) {
              report(call, 'hit_l1');
              return { output: cached };
            }
            const { promise, leader } = flights.run(key, { timeoutMs: call.timeoutMs, operation: operation.name }, async (flight) => {
              // The upstream call runs under the flight's deadline, not this caller's: another caller may still want it.
              const { output } = await next(deriveCall(call, { scope: flight }));
              const frozen = deepFreeze(output);
              // Only successful, parsed answers reach here: errors are never cached.
              void store.set(key, frozen, { ttlMs, tags: cacheTagsOf(operation, call.params, config) });
              return { output: frozen };
            });
            report(call, leader ? 'miss' : 'coalesced');
            return promise;
          };
        },
        { name: 'cache', step: 'initialize', priority: 100 },
      );
    },
  };
}
