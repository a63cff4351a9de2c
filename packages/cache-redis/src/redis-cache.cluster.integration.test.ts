import { cacheKeyOf, hereNow } from '@presence/core';
import { cacheStoreConformanceCases, createMemoryTransport } from '@presence/core/testing';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedClient, eventually, hereNowTransport, singleChannelBody, type CachedClient } from '../test/helpers.js';
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
  }, 60_000);

  it('serves hits, coalesces through the lock and invalidates across processes', async () => {
    // Two "processes": separate Cluster connections, plugins and L1s.
    // a's answers wait for the test: a holds every lock until b is waiting on each of them.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slowA = createMemoryTransport({ respond: async () => (await held, { body: singleChannelBody(['alice', 'bob']) }) });
    const slowB = hereNowTransport({ delayMs: 150 });
    // Long TTLs, deadlines and lock waits: what is checked is where answers come from, and on a busy
    // machine a 1 s L1 or a 1.5 s lock wait can run out between two steps.
    const patient = { commandTimeoutMs: 5000, ttlMs: 60_000, l1: { ttlMs: 60_000 }, lock: { waitMs: 20_000 } };
    const a = cachedClient((await connection()) as unknown as Redis, slowA, patient);
    // b's connection, watched (not changed): each of its lock attempts is counted.
    const bConnection = (await connection()) as Cluster;
    let bLockAttempts = 0;
    const evalOnB = bConnection.eval.bind(bConnection) as (...args: unknown[]) => Promise<unknown>;
    (bConnection as unknown as { eval: (...args: unknown[]) => Promise<unknown> }).eval = (...args) => {
      if (String(args[0]).includes("'NX'")) bLockAttempts++;
      return evalOnB(...args);
    };
    const b = cachedClient(bConnection as unknown as Redis, slowB, patient);
    open.push(a, b);
    const channels = Array.from({ length: 8 }, (_, i) => `room-${i}`); // several slots
    const first = Promise.all(channels.map((ch) => a.client.hereNow({ channels: [ch] })));
    // b asks once a holds every lock (it has asked upstream for each), however slow the machine;
    // a answers once each of b's calls has met a held lock.
    await eventually(() => slowA.requests.length === channels.length, 10_000, 2);
    const second = Promise.all(channels.map((ch) => b.client.hereNow({ channels: [ch] })));
    await eventually(() => bLockAttempts >= channels.length, 10_000, 2);
    release();
    await Promise.all([first, second]);
    expect(slowA.requests.length + slowB.requests.length).toBe(channels.length);
    expect(b.cacheResults().filter((r) => r === 'coalesced')).toHaveLength(channels.length);
    await a.cache.flush();

    const c = cachedClient((await connection()) as unknown as Redis, hereNowTransport(), patient);
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
    await eventually(() => b.cache.l1!.get(cacheKeyOf(hereNow, hereNow.prepare({ channels: ['room-3'] }, config), config)!) === undefined, 10_000);
    // Other rooms are untouched.
    await b.client.hereNow({ channels: ['room-4'] });
    expect(b.cacheResults().at(-1)).toBe('hit_l1');
  });

  describe('CacheStore conformance: Redis store on a Cluster', () => {
    let run = 0;
    let redis: Cluster | undefined;
    // A short TTL of 1 s: the set and the read before it expires must fit in it on a busy machine.
    const cases = cacheStoreConformanceCases(async () => createRedisStore({ redis: (redis ??= await connection()), prefix: `cc${++run}:`, commandTimeoutMs: 2000 }), { shortTtlMs: 1000 });
    for (const testCase of cases) it(testCase.name, testCase.run);
  });
});
