import { cacheKeyOf, hereNow } from '@presence/core';
import { cacheStoreConformanceCases } from '@presence/core/testing';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedClient, eventually, hereNowTransport, sleep, type CachedClient } from '../test/helpers.js';
import { startRedisCluster, type RedisCluster } from './testing.js';
import { createRedisStore } from './redis-store.js';

let cluster: RedisCluster;
const clients: Cluster[] = [];
const open: CachedClient[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.client.close()));
  for (const c of clients) c.disconnect();
  await cluster?.stop();
});

async function connection(): Promise<Cluster> {
  const c = await cluster.client();
  clients.push(c);
  return c;
}

describe('redisCache on a 3-node Redis Cluster', () => {
  it('keeps a key and its lock in one slot, and spreads keys over the nodes', async () => {
    const store = createRedisStore({ redis: await connection() });
    const slots = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const keys = store.keysOf(`question-${i}`);
      const slot = cluster.keySlot(keys.value);
      expect(cluster.keySlot(keys.lock)).toBe(slot);
      expect(cluster.keySlot(keys.meta)).toBe(slot);
      slots.add(slot);
    }
    expect(slots.size).toBeGreaterThan(10);
  });

  it('serves hits, coalesces through the lock and invalidates across processes', async () => {
    // Two "processes": separate Cluster connections, plugins and L1s.
    const slowA = hereNowTransport({ delayMs: 150 });
    const slowB = hereNowTransport({ delayMs: 150 });
    const a = cachedClient((await connection()) as unknown as Redis, slowA, { commandTimeoutMs: 1000 });
    const b = cachedClient((await connection()) as unknown as Redis, slowB, { commandTimeoutMs: 1000 });
    open.push(a, b);
    const channels = Array.from({ length: 8 }, (_, i) => `room-${i}`); // several slots
    const first = Promise.all(channels.map((ch) => a.client.hereNow({ channels: [ch] })));
    await sleep(50);
    await Promise.all([first, ...channels.map((ch) => b.client.hereNow({ channels: [ch] }))]);
    expect(slowA.requests.length + slowB.requests.length).toBe(channels.length);
    expect(b.cacheResults().filter((r) => r === 'coalesced')).toHaveLength(channels.length);
    await a.cache.flush();

    const c = cachedClient((await connection()) as unknown as Redis, hereNowTransport(), { commandTimeoutMs: 1000 });
    open.push(c);
    await c.client.hereNow({ channels: ['room-3'] });
    expect(c.cacheResults()).toEqual(['hit_l2']);

    // A write in a: the entry goes from Redis and, over the bus, from b's L1.
    await b.client.hereNow({ channels: ['room-3'] });
    expect(b.cacheResults().at(-1)).toBe('hit_l1');
    await a.client.setPresenceState({ channels: ['room-3'], state: { x: 1 } });
    const config = a.client.config;
    const key = a.cache.store.keysOf(cacheKeyOf(hereNow, hereNow.prepare({ channels: ['room-3'] }, config), config)!).value;
    const node = (await connection());
    expect(await node.exists(key)).toBe(0);
    await eventually(() => b.cache.l1!.get(cacheKeyOf(hereNow, hereNow.prepare({ channels: ['room-3'] }, config), config)!) === undefined, 1000);
    // Other rooms are untouched.
    await b.client.hereNow({ channels: ['room-4'] });
    expect(b.cacheResults().at(-1)).toBe('hit_l1');
  });

  describe('CacheStore conformance: Redis store on a Cluster', () => {
    let run = 0;
    let redis: Cluster | undefined;
    const cases = cacheStoreConformanceCases(async () => createRedisStore({ redis: (redis ??= await connection()), prefix: `cc${++run}:`, commandTimeoutMs: 2000 }));
    for (const testCase of cases) it(testCase.name, testCase.run);
  });
});
