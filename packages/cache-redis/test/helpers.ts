import { createPresence, type PresenceClient, type PresenceEventMap, type Transport } from '@presence/core';
import type { Redis } from 'ioredis';
import { redisCache, type RedisCacheOptions, type RedisCachePlugin } from '../src/index.js';
import { sleep } from './upstream.js';

export { hereNowTransport, singleChannelBody, sleep } from './upstream.js';

export interface CachedClient {
  readonly client: PresenceClient;
  readonly cache: RedisCachePlugin;
  readonly events: { [E in keyof PresenceEventMap]?: PresenceEventMap[E][] };
  cacheResults(): string[];
}

export function cachedClient(
  redis: Redis,
  transport: Transport,
  cacheOptions: Omit<RedisCacheOptions, 'redis'> = {},
  clientOptions: { authKey?: string; secretKey?: string; publishKey?: string; userId?: string; timeoutMs?: number } = {},
): CachedClient {
  const cache = redisCache({ redis, ...cacheOptions });
  const client = createPresence({ subscribeKey: 'sub-c-cache', userId: clientOptions.userId ?? 'tester', transport, plugins: [cache], ...clientOptions });
  const events: CachedClient['events'] = {};
  for (const name of ['cache', 'cacheError', 'cacheCorrupt', 'circuit'] as const) {
    client.events.on(name, (payload) => ((events[name] ??= []) as unknown[]).push(payload));
  }
  return { client, cache, events, cacheResults: () => (events.cache ?? []).map((e) => e.result) };
}

export function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

/** Polls until `check` passes or `timeoutMs` runs out; returns the elapsed ms. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 5): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}
