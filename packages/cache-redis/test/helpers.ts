import { createPresence, type Plugin, type PresenceClient, type PresenceEventMap, type Transport } from '@presence/core';
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

/** A plugin that records every request signature the client sends, to look for them where they must not be. */
export function signatureSpy(): { plugin: Plugin; signatures: string[] } {
  const signatures: string[] = [];
  const plugin: Plugin = {
    name: 'signatureSpy',
    apply(stack) {
      stack.add(
        (next) => (call) => {
          const signature = call.request?.query.find(([name]) => name === 'signature')?.[1];
          if (signature) signatures.push(signature);
          return next(call);
        },
        // Innermost: after signing, so it sees the signature that goes on the wire.
        { name: 'signatureSpy', step: 'finalize', priority: -1000 },
      );
    },
  };
  return { plugin, signatures };
}

/** Every key in Redis and everything stored under it, whatever its type, as text. */
export async function dumpRedis(redis: Redis): Promise<{ keys: string[]; contents: string[] }> {
  const keys = await redis.keys('*');
  const contents: string[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    if (type === 'string') contents.push((await redis.get(key)) ?? '');
    else if (type === 'set') contents.push(...(await redis.smembers(key)));
    else if (type === 'hash') contents.push(...Object.entries(await redis.hgetall(key)).flat());
    else if (type === 'list') contents.push(...(await redis.lrange(key, 0, -1)));
    else if (type === 'zset') contents.push(...(await redis.zrange(key, 0, -1)));
    else if (type === 'stream') contents.push(...(await redis.xrange(key, '-', '+')).flat(2));
    else if (type !== 'none') throw new Error(`dumpRedis: no reader for the Redis type ${type} (key ${key})`);
  }
  return { keys, contents };
}
