// Cached here-now, one awaited call at a time: every call a hit. The client's whole call (validation,
// deadline, stack, cache) against bentocache's getOrSet and a raw ioredis GET of the same value.
import { createPresence, type PresenceClient } from '@presence/core';
import { memoryCache } from '@presence/core';
import { createMemoryTransport } from '@presence/core/testing';
import { redisCache } from '@presence/cache-redis';
import { connect, startRedisServer } from '@presence/cache-redis/testing';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { ROUNDS, report } from '../lib/section.js';
import { interleave, pairedRow, type Row } from '../lib/stats.js';

const HOUR_MS = 3_600_000;
const section = 'cached here-now (hits, 1 in flight)';
const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
const body = { status: 200, message: 'OK', service: 'Presence', occupancy: users.length, uuids: users };
const transport = createMemoryTransport({ respond: () => ({ body }) });

/** `calls` awaited calls in a row; calls per second. */
async function sequential(run: () => Promise<unknown>, calls: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < calls; i++) await run();
  return calls / ((performance.now() - started) / 1000);
}

const server = await startRedisServer();
const redis = await connect(server.port);
const closers: Array<() => unknown> = [];
const rows: Row[] = [];
try {
  const client = (plugins: Parameters<typeof createPresence>[0]['plugins']): PresenceClient => {
    const made = createPresence({ subscribeKey: 'sub-c-bench', userId: 'bench', transport, plugins });
    closers.push(() => made.close());
    return made;
  };
  const input = { channels: ['lobby'] };
  const memory = client([memoryCache({ ttlMs: HOUR_MS })]);
  const l1 = client([redisCache({ redis, ttlMs: HOUR_MS, l1: { ttlMs: HOUR_MS } })]);
  const l2 = client([redisCache({ redis, ttlMs: HOUR_MS, l1: false, commandTimeoutMs: 1000 })]);
  const answer = await memory.hereNow(input);
  await l1.hereNow(input);
  await l2.hereNow(input);

  // bentocache as a service would set it up for the same job: the same answer under one key.
  const factory = () => answer;
  const bentoMemory = new BentoCache({ default: 'm', stores: { m: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) } });
  const bentoTiered = new BentoCache({ default: 't', stores: { t: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })).useL2Layer(redisDriver({ connection: redis })) } });
  const bentoL2 = new BentoCache({ default: 'r', stores: { r: bentostore().useL2Layer(redisDriver({ connection: redis })) } });
  closers.push(() => bentoMemory.disconnectAll(), () => bentoTiered.disconnectAll(), () => bentoL2.disconnectAll());
  const bento = (cache: BentoCache<never>) => () => cache.getOrSet({ key: 'hereNow:lobby', factory, ttl: '1h' });
  const bentoSides = { memory: bento(bentoMemory as BentoCache<never>), tiered: bento(bentoTiered as BentoCache<never>), l2: bento(bentoL2 as BentoCache<never>) };
  for (const side of Object.values(bentoSides)) await side();
  // The raw side reads a value of the same size as the one the L2 rows read.
  const stored = JSON.stringify(answer);
  await redis.set('bench:raw', stored);
  const rawGet = () => redis.get('bench:raw');

  const upstreamBefore = transport.requests.length;
  const FAST = 50_000;
  const SLOW = 3_000;
  /** Warms every side, then runs them in interleaved rounds of `calls` awaited calls each. */
  async function measure<K extends string>(sides: Record<K, () => Promise<unknown>>, calls: number): Promise<Record<K, number[]>> {
    for (const run of Object.values<() => Promise<unknown>>(sides)) await sequential(run, calls / 5);
    const timed = Object.fromEntries(Object.entries<() => Promise<unknown>>(sides).map(([name, run]) => [name, () => sequential(run, calls)]));
    return interleave(timed as Record<K, () => Promise<number>>, ROUNDS);
  }

  const fast = await measure({ memoryCache: () => memory.hereNow(input), redisL1: () => l1.hereNow(input), bentoMemory: bentoSides.memory, bentoTiered: bentoSides.tiered }, FAST);
  rows.push(
    pairedRow({ section, name: 'client + memoryCache hit / bentocache getOrSet (memory)', unit: 'ops/s', ours: fast.memoryCache, baseline: fast.bentoMemory }),
    pairedRow({ section, name: 'client + redisCache L1 hit / bentocache getOrSet (memory L1 + Redis L2)', unit: 'ops/s', ours: fast.redisL1, baseline: fast.bentoTiered }),
  );

  const slow = await measure({ redisL2: () => l2.hereNow(input), bentoL2: bentoSides.l2, raw: rawGet }, SLOW);
  rows.push(
    pairedRow({ section, name: 'client + redisCache L2 hit / bentocache getOrSet (Redis L2 only)', unit: 'ops/s', ours: slow.redisL2, baseline: slow.bentoL2 }),
    pairedRow({ section, name: `client + redisCache L2 hit / raw ioredis GET (${stored.length} B value)`, unit: 'ops/s', ours: slow.redisL2, baseline: slow.raw }),
  );
  if (transport.requests.length !== upstreamBefore) throw new Error('a cached call went upstream: the rows above would not measure hits');
} finally {
  for (const close of closers.reverse()) await close();
  redis.disconnect();
  await server.stop();
}
report(rows);
