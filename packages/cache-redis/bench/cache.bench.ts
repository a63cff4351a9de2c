// pnpm bench: side-by-side figures for the README. Not a test: nothing here asserts a speed.
// Starts its own redis-server and emulator; the fleet part forks 4 worker processes per mode.
import { createEvents, createPresence, createStack, hereNow, memoryCache, type Call, type Handler, type PresenceClient, type ResolvedConfig } from '@presence/core';
import { createEmulator } from '@presence/emulator';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import type { Redis } from 'ioredis';
import { startWorker } from '../test/fleet.js';
import { hereNowTransport, sleep } from '../test/helpers.js';
import { connect, startRedisServer } from '../src/testing.js';
import { redisCache } from '../src/index.js';

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Best of `rounds` runs of `iterations` awaited calls, in operations per second. */
async function throughput(fn: () => Promise<unknown>, iterations = 200_000, rounds = 5): Promise<number> {
  for (let i = 0; i < 20_000; i++) await fn(); // warm up the JIT
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    best = Math.max(best, iterations / ((performance.now() - started) / 1000));
  }
  return best;
}

async function latencies(fn: () => Promise<unknown>, iterations: number): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 500; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length * 0.5)]!, p99: samples[Math.floor(samples.length * 0.99)]! };
}

const server = await startRedisServer();
const redis: Redis = await connect(server.port);
const closers: Array<() => unknown> = [];

try {
  console.log(`presence cache benchmark — ${new Date().toISOString()} — node ${process.version}, ${(await import('node:os')).cpus().length} cores\n`);

  // 1. L1 hit: the cache middleware alone, the whole client call, and bentocache's memory-only getOrSet.
  {
    const transport = hereNowTransport();
    const cache = redisCache({ redis, ttlMs: 3_600_000, l1: { ttlMs: 3_600_000 } });
    const client: PresenceClient = createPresence({ subscribeKey: 'sub-c-bench', userId: 'bench', transport, plugins: [cache] });
    closers.push(() => client.close());
    const input = { channels: ['lobby'] };
    await client.hereNow(input);

    // The middleware on its own, as bentocache's getOrSet is on its own: same stack, no client around it.
    const stack = createStack({ config: client.config, events: createEvents(), logger: undefined as never, inflight: { hereNow: 0, whereNow: 0, getPresenceState: 0, setPresenceState: 0, heartbeat: 0, leave: 0, subscribe: 0 } });
    redisCache({ redis, ttlMs: 3_600_000, l1: { ttlMs: 3_600_000 } }).apply(stack);
    closers.push(() => stack.close()); // closes the plugin's subscriber connection
    const terminal: Handler = async () => ({ output: { totalChannels: 1, totalOccupancy: 0, channels: [] } });
    const handler = stack.resolve(terminal);
    const call: Call = {
      id: 1,
      operation: hereNow,
      params: hereNow.prepare(input, client.config),
      config: client.config,
      signal: new AbortController().signal,
      deadline: performance.now() + 3_600_000,
      timeoutMs: 10_000,
      attempt: 1,
    };
    await handler(call);

    const bento = new BentoCache({ default: 'memory', stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) } });
    closers.push(() => bento.disconnectAll());
    const bentoKey = 'hereNow|lobby';
    const factory = () => ({ totalChannels: 1, totalOccupancy: 0, channels: [] });
    await bento.getOrSet({ key: bentoKey, factory, ttl: '1h' });

    const memClient = createPresence({ subscribeKey: 'sub-c-bench', userId: 'bench', transport, plugins: [memoryCache({ ttlMs: 3_600_000 })] });
    closers.push(() => memClient.close());
    await memClient.hereNow(input);

    const middleware = await throughput(() => handler(call));
    const bentoOps = await throughput(() => bento.getOrSet({ key: bentoKey, factory, ttl: '1h' }));
    const fullCall = await throughput(() => client.hereNow(input), 100_000);
    const coreMemory = await throughput(() => memClient.hereNow(input), 100_000);
    console.log('L1 hit throughput (ops/s, best of 5, one awaited call at a time)');
    console.log(`  redisCache middleware L1 hit     ${fmt(middleware).padStart(12)}`);
    console.log(`  bentocache getOrSet (memory L1)  ${fmt(bentoOps).padStart(12)}`);
    console.log(`  → ratio redisCache / bentocache  ${fmt(middleware / bentoOps, 2).padStart(12)}×   (target ≥ 1)`);
    console.log(`  client.hereNow, redisCache L1    ${fmt(fullCall).padStart(12)}   (whole call: validation, deadline, stack)`);
    console.log(`  client.hereNow, core memoryCache ${fmt(coreMemory).padStart(12)}\n`);
    if (transport.requests.length !== 2) throw new Error(`expected 2 upstream requests (one per client) in the L1 part, saw ${transport.requests.length}`);
  }

  // 2. L2 hit against a raw GET of a value the same size, on the same connection.
  {
    const transport = hereNowTransport({ uuids: () => Array.from({ length: 20 }, (_, i) => `user-${i}`) });
    const cache = redisCache({ redis, ttlMs: 3_600_000, l1: false, commandTimeoutMs: 1000 });
    const client = createPresence({ subscribeKey: 'sub-c-bench', userId: 'bench', transport, plugins: [cache] });
    closers.push(() => client.close());
    const input = { channels: ['l2-room'] };
    await client.hereNow(input);
    await cache.flush();
    const config = client.config as ResolvedConfig;
    const { cacheKeyOf } = await import('@presence/core');
    const valueKey = cache.store.keysOf(cacheKeyOf(hereNow, hereNow.prepare(input, config), config)!).value;
    const stored = (await redis.get(valueKey))!;
    await redis.set('bench:raw', stored);
    // The middleware alone (no client around it), to tell the cache's own cost from the client's.
    const stack = createStack({ config, events: createEvents(), logger: undefined as never, inflight: { hereNow: 0, whereNow: 0, getPresenceState: 0, setPresenceState: 0, heartbeat: 0, leave: 0, subscribe: 0 } });
    cache.apply(stack);
    closers.push(() => stack.close());
    const handler = stack.resolve(async () => {
      throw new Error('the L2 part must never go upstream');
    });
    const call: Call = { id: 1, operation: hereNow, params: hereNow.prepare(input, config), config, signal: new AbortController().signal, deadline: performance.now() + 3_600_000, timeoutMs: 10_000, attempt: 1 };
    const rounds = 3;
    type Lat = { p50: number; p99: number };
    let best: { l2: Lat; mw: Lat; raw: Lat } | undefined;
    for (let r = 0; r < rounds; r++) {
      const raw = await latencies(() => redis.get('bench:raw'), 5000);
      const mw = await latencies(() => handler(call), 5000);
      const l2 = await latencies(() => client.hereNow(input), 5000);
      if (!best || l2.p50 / raw.p50 < best.l2.p50 / best.raw.p50) best = { l2, mw, raw };
    }
    if (transport.requests.length !== 1) throw new Error(`expected 1 upstream request in the L2 part, saw ${transport.requests.length}`);
    const { l2, mw, raw } = best!;
    const us = (ms: number): string => `${fmt(ms * 1000)} µs`;
    console.log(`L2 hit latency (value ${stored.length} bytes, 5,000 sequential calls, best of ${rounds} interleaved runs)`);
    console.log(`  raw ioredis GET                  p50 ${us(raw.p50).padStart(8)}   p99 ${us(raw.p99).padStart(8)}`);
    console.log(`  redisCache middleware, L2 hit    p50 ${us(mw.p50).padStart(8)}   p99 ${us(mw.p99).padStart(8)}   (ratio p50 ${fmt(mw.p50 / raw.p50, 2)}×)`);
    console.log(`  client.hereNow, L2 hit           p50 ${us(l2.p50).padStart(8)}   p99 ${us(l2.p99).padStart(8)}`);
    console.log(`  → ratio L2 hit / raw GET         p50 ${fmt(l2.p50 / raw.p50, 2).padStart(6)}×    p99 ${fmt(l2.p99 / raw.p99, 2).padStart(6)}×   (target ≤ 1.3)\n`);
  }

  // 3. A fleet of 4 processes: upstream calls per key per window, fleet lock vs in-process single-flight only.
  {
    const emulator = await createEmulator({ latencyMs: 30 });
    closers.push(() => emulator.close());
    const ttlMs = 1000;
    const windows = 4;
    const channels = ['lobby', 'kitchen', 'garden', 'attic'];
    const modes = [
      ['fleet', 'redisCache (fleet lock)'],
      ['no-lock', 'redisCache, lock: false (L2 shared, in-process single-flight)'],
      ['memory', 'core memoryCache (in-process single-flight only)'],
    ] as const;
    const perKeyWindow: Record<string, number> = {};
    console.log(`Fleet: 4 processes × 50 concurrent calls × ${channels.length} keys, ${windows} windows of ${ttlMs} ms, upstream latency 30 ms`);
    for (const [mode, label] of modes) {
      emulator.reset();
      await redis.flushall();
      const workers = await Promise.all(Array.from({ length: 4 }, () => startWorker({ origin: emulator.origin, redisUrl: server.url, mode, ttlMs })));
      try {
        for (let w = 0; w < windows; w++) {
          const start = performance.now();
          const replies = await Promise.all(workers.map((worker) => worker.request({ type: 'burst', channels, concurrency: 50 })));
          if (replies.some((r) => r.failed.length)) throw new Error(`calls failed in ${mode}: ${replies.flatMap((r) => r.failed).slice(0, 3).join('; ')}`);
          await sleep(Math.max(0, ttlMs + 100 - (performance.now() - start)));
        }
      } finally {
        await Promise.all(workers.map((worker) => worker.close()));
      }
      const upstream = emulator.stats().requests.byOperation.hereNow;
      perKeyWindow[mode] = upstream / (channels.length * windows);
      console.log(`  ${label.padEnd(64)} ${fmt(perKeyWindow[mode], 2).padStart(5)} upstream calls per key per window`);
    }
    console.log(`  → fleet lock: ${fmt(perKeyWindow['no-lock']! / perKeyWindow.fleet!, 2)}× fewer than lock: false, ${fmt(perKeyWindow.memory! / perKeyWindow.fleet!, 2)}× fewer than in-process single-flight only (target ≥ 3.5)`);
  }
} finally {
  for (const close of closers.reverse()) await close();
  redis.disconnect();
  await server.stop();
}
