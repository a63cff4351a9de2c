import { cacheStoreConformanceCases } from '@presence/core/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startRedisServer, type RedisServer } from './testing.js';
import { createRedisStore } from './redis-store.js';
import { RedisUnavailableError } from './command-guard.js';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connect(server.port);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

describe('CacheStore conformance: Redis store', () => {
  let run = 0;
  // A fresh prefix per case: cases never see each other's keys. Generous deadline: the contract is not about speed.
  // A short TTL of 1 s: the set and the read before it expires must fit in it on a busy machine.
  const cases = cacheStoreConformanceCases(() => createRedisStore({ redis, prefix: `conf${++run}:`, commandTimeoutMs: 2000 }), { shortTtlMs: 1000 });
  for (const testCase of cases) it(testCase.name, testCase.run);
});

describe('createRedisStore', () => {
  it('keeps a value, its tag list and its lock in one hash slot, under opaque names', () => {
    const store = createRedisStore({ redis, prefix: 'p:' });
    const keys = store.keysOf('v1|hereNow|secret-looking|ch=lobby');
    expect(keys.value).toMatch(/^p:\{[0-9a-f]{32}\}:v$/);
    expect(keys.lock).toBe(keys.value.replace(/:v$/, ':lock'));
    expect(keys.meta).toBe(keys.value.replace(/:v$/, ':m'));
    expect(keys.value).not.toContain('lobby');
  });

  it('clear() leaves keys outside its prefix alone, even with glob characters in the prefix', async () => {
    await redis.set('other:key', 'x');
    await redis.set('pre*x:lookalike', 'x');
    const store = createRedisStore({ redis, prefix: 'pre*:' });
    await store.set('a', '1', { ttlMs: 60_000, tags: ['t'] });
    await store.clear();
    expect(await store.get('a')).toBeUndefined();
    expect(await redis.get('other:key')).toBe('x');
    expect(await redis.get('pre*x:lookalike')).toBe('x');
  });

  it('lock is exclusive and only its holder can release it', async () => {
    const store = createRedisStore({ redis, prefix: 'lock:' });
    expect(await store.lock('k', 'a', 5000)).toBe(true);
    expect(await store.lock('k', 'b', 5000)).toBe(false);
    expect(await store.unlock('k', 'b')).toBe(false);
    expect(await store.unlock('k', 'a')).toBe(true);
    expect(await store.lock('k', 'b', 5000)).toBe(true);
  });

  it('rejects with RedisUnavailableError, not a Redis error, when the client is not connected', async () => {
    const offline = await connect(server.port);
    const ended = new Promise((resolve) => offline.once('end', resolve));
    offline.disconnect();
    await ended;
    const store = createRedisStore({ redis: offline });
    const error = await store.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as RedisUnavailableError).reason).toBe('not_ready');
  });

  it('connects a lazyConnect client that has not connected yet, as ioredis itself does on a first command', async () => {
    const lazy = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    lazy.on('error', () => {});
    try {
      const store = createRedisStore({ redis: lazy, prefix: 'lazy:' });
      expect(lazy.status).toBe('wait');
      // The first command finds it unconnected and is skipped (fail-open), but starts the connection…
      await expect(store.get('k')).rejects.toBeInstanceOf(RedisUnavailableError);
      await new Promise<void>((resolve) => (lazy.status === 'ready' ? resolve() : lazy.once('ready', () => resolve())));
      // …so the next ones reach Redis.
      await store.set('k', 'v', { ttlMs: 5000, tags: [] });
      expect(await store.get('k')).toBe('v');
    } finally {
      lazy.disconnect();
    }
  });

  it('validates its options, naming the field', () => {
    expect(() => createRedisStore({ redis, commandTimeoutMs: 0 })).toThrow(/createRedisStore\.commandTimeoutMs/);
    expect(() => createRedisStore({ redis, prefix: 'a{b}' })).toThrow(/createRedisStore\.prefix/);
    expect(() => createRedisStore({ redis, circuitBreaker: { failureThreshold: 0 } })).toThrow(/createRedisStore\.circuitBreaker\.failureThreshold/);
  });
});
