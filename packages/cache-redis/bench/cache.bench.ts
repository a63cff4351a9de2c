// pnpm bench: side-by-side figures for the README. Not a test: nothing here asserts a speed.
// Runs the built packages (turbo builds them first): no @presence/source condition here.
// Starts its own redis-server and emulator; the fleet part forks 4 worker processes per mode.
// Every round is printed, then the median and the spread (min–max) across rounds: never a best-of.
//
//   pnpm bench                       figures on the machine as it is
//   BENCH_BURNERS=8 pnpm bench       with 8 CPU-bound processes (node -e "for(;;){}") beside the fleet part
//   BENCH_ONLY=l2|l1|fleet|sigstop   one part only
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { createEvents, createPresence, createStack, hereNow, memoryCache, type Call, type Handler, type PresenceClient, type ResolvedConfig } from '@presence/core';
import { redisCache } from '@presence/cache-redis';
import { connect, startRedisServer } from '@presence/cache-redis/testing';
import { createEmulator } from '@presence/emulator';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import type { Redis } from 'ioredis';
import { startWorker, type FleetWorker } from '../test/fleet.js';
import { hereNowTransport, sleep } from '../test/upstream.js';

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const only = process.env.BENCH_ONLY;
const part = (name: string): boolean => !only || only.split(',').includes(name);
const burnerCount = Number(process.env.BENCH_BURNERS ?? 0);
const load = (): string => loadavg().map((n) => n.toFixed(1)).join(' ');

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
const median = (values: readonly number[]): number => quantile([...values].sort((a, b) => a - b), 0.5);
/** "median [min–max]" of per-round figures. */
const spread = (values: readonly number[], digits: number, unit = ''): string =>
  `${fmt(median(values), digits)}${unit} [${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)}]`;

/** `rounds` runs of `iterations` awaited calls: operations per second of each round. */
async function throughput(fn: () => Promise<unknown>, iterations = 200_000, rounds = 5): Promise<number[]> {
  for (let i = 0; i < 20_000; i++) await fn(); // warm up the JIT
  const perRound: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    perRound.push(iterations / ((performance.now() - started) / 1000));
  }
  return perRound;
}

/**
 * Latencies of several contenders measured side by side: each iteration times one call of each,
 * in an order that rotates, so all of them see the same machine at the same moments.
 */
async function interleaved(contenders: ReadonlyArray<() => Promise<unknown>>, iterations: number): Promise<Array<{ p50: number; p99: number }>> {
  const samples = contenders.map(() => [] as number[]);
  for (let i = 0; i < iterations + 500; i++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = (i + k) % contenders.length;
      const started = performance.now();
      await contenders[c]!();
      if (i >= 500) samples[c]!.push(performance.now() - started); // the first 500 warm up
    }
  }
  return samples.map((list) => {
    list.sort((a, b) => a - b);
    return { p50: quantile(list, 0.5), p99: quantile(list, 0.99) };
  });
}

/** CPU-bound processes beside the benchmark, stopped by their process ids. */
function startBurners(count: number): () => void {
  const burners: ChildProcess[] = Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  return () => {
    for (const burner of burners) burner.kill('SIGKILL');
  };
}

const server = await startRedisServer();
const redis: Redis = await connect(server.port);
const closers: Array<() => unknown> = [];

try {
  console.log(`presence cache benchmark — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} cores, load average ${load()}, built packages\n`);

  // 1. L1 hit: the cache middleware alone, the whole client call, and bentocache's memory-only getOrSet.
  if (part('l1')) {
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
    const ratios = middleware.map((m, r) => m / bentoOps[r]!);
    console.log('L1 hit throughput (ops/s, one awaited call at a time; median [min–max] of 5 rounds, then every round)');
    console.log(`  redisCache middleware L1 hit     ${spread(middleware, 0)}   ${middleware.map((n) => fmt(n)).join(' / ')}`);
    console.log(`  bentocache getOrSet (memory L1)  ${spread(bentoOps, 0)}   ${bentoOps.map((n) => fmt(n)).join(' / ')}`);
    console.log(`  → ratio redisCache / bentocache  ${spread(ratios, 2, '×')}   (target ≥ 1)`);
    console.log(`  client.hereNow, redisCache L1    ${spread(fullCall, 0)}   (whole call: validation, deadline, stack)`);
    console.log(`  client.hereNow, core memoryCache ${spread(coreMemory, 0)}\n`);
    if (transport.requests.length !== 2) throw new Error(`expected 2 upstream requests (one per client) in the L1 part, saw ${transport.requests.length}`);
  }

  // 2. L2 hit against a raw GET of a value the same size, on the same connection.
  if (part('l2')) {
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
    const rounds = Number(process.env.BENCH_L2_ROUNDS ?? 5);
    const us = (ms: number): string => `${fmt(ms * 1000)} µs`;
    console.log(`L2 hit latency (value ${stored.length} bytes; a warm-up round, then ${rounds} rounds of 5,000 sequential calls each, the three timed side by side, interleaved)`);
    const ratio50: number[] = [];
    const ratio99: number[] = [];
    const mwRatio50: number[] = [];
    // Round 0 warms up all three (the JIT, the connection's buffers): printed, not counted.
    for (let r = 0; r <= rounds; r++) {
      const [raw, mw, l2] = await interleaved([() => redis.get('bench:raw'), () => handler(call), () => client.hereNow(input)], 5000);
      if (r > 0) {
        ratio50.push(l2!.p50 / raw!.p50);
        ratio99.push(l2!.p99 / raw!.p99);
        mwRatio50.push(mw!.p50 / raw!.p50);
      }
      console.log(
        `  ${r === 0 ? 'warm-up round (not counted)' : `round ${r}`}: raw GET p50 ${us(raw!.p50)} p99 ${us(raw!.p99)} | middleware p50 ${us(mw!.p50)} p99 ${us(mw!.p99)} | client.hereNow p50 ${us(l2!.p50)} p99 ${us(l2!.p99)} | ratio p50 ${fmt(l2!.p50 / raw!.p50, 2)}× p99 ${fmt(l2!.p99 / raw!.p99, 2)}×`,
      );
    }
    if (transport.requests.length !== 1) throw new Error(`expected 1 upstream request in the L2 part, saw ${transport.requests.length}`);
    console.log(`  → middleware / raw GET, p50: ${spread(mwRatio50, 2, '×')}`);
    console.log(`  → client.hereNow L2 hit / raw GET: p50 ${spread(ratio50, 2, '×')}, p99 ${spread(ratio99, 2, '×')}   (median [min–max] of ${rounds} rounds; target ≤ 1.3)\n`);
  }

  // 3. A fleet of 4 processes: upstream calls per key per window, fleet lock vs in-process single-flight only.
  //    Each window asks new questions, so it starts cold by construction (no waiting for expiry).
  if (part('fleet')) {
    const emulator = await createEmulator({ latencyMs: 30 });
    closers.push(() => emulator.close());
    const ttlMs = 3000;
    const windows = Number(process.env.BENCH_WINDOWS ?? 6);
    const keys = 4;
    const modes = [
      ['fleet', 'redisCache (fleet lock)'],
      ['no-lock', 'redisCache, lock: false (L2 shared, in-process single-flight)'],
      ['memory', 'core memoryCache (in-process single-flight only)'],
    ] as const;
    const perKeyWindow: Record<string, number> = {};
    const stopBurners = startBurners(burnerCount);
    try {
      await sleep(burnerCount ? 2000 : 0); // let the load settle in
      console.log(
        `Fleet: 4 processes × 50 concurrent calls × ${keys} keys, ${windows} cold windows, upstream latency 30 ms, commandTimeoutMs 200; ` +
          `${burnerCount} CPU-bound processes beside it; load average ${load()}`,
      );
      for (const [mode, label] of modes) {
        emulator.reset();
        await redis.flushall();
        const workers = await Promise.all(Array.from({ length: 4 }, () => startWorker({ origin: emulator.origin, redisUrl: server.url, mode, ttlMs, built: true })));
        const counts: number[] = [];
        const durations: number[] = [];
        const errors: Record<string, number> = {};
        let failed = 0;
        try {
          for (let w = 0; w < windows; w++) {
            const channels = Array.from({ length: keys }, (_, i) => `${mode}-w${w}-k${i}`);
            const before = emulator.stats().requests.byOperation.hereNow;
            const replies = await Promise.all(workers.map((worker) => worker.request({ type: 'burst', channels, concurrency: 50 })));
            counts.push(emulator.stats().requests.byOperation.hereNow - before);
            for (const reply of replies) {
              failed += reply.failed.length;
              durations.push(...reply.durations);
            }
          }
          const last = await Promise.all(workers.map((worker) => worker.request({ type: 'burst', channels: [], concurrency: 0 })));
          for (const reply of last) for (const [reason, n] of Object.entries(reply.cacheErrors)) errors[reason] = (errors[reason] ?? 0) + n;
        } finally {
          await Promise.all(workers.map((worker) => worker.close()));
        }
        perKeyWindow[mode] = counts.reduce((a, b) => a + b, 0) / (keys * windows);
        durations.sort((a, b) => a - b);
        console.log(`  ${label.padEnd(64)} ${fmt(perKeyWindow[mode], 2).padStart(5)} upstream calls per key per window`);
        console.log(
          `      per window: ${counts.map((n) => fmt(n / keys, 2)).join(' ')} | caller errors ${failed} | call p50 ${fmt(quantile(durations, 0.5), 1)} ms p99 ${fmt(quantile(durations, 0.99), 1)} ms | cacheError ${JSON.stringify(errors)}`,
        );
      }
      console.log(`  → fleet lock: ${fmt(perKeyWindow['no-lock']! / perKeyWindow.fleet!, 2)}× fewer than lock: false, ${fmt(perKeyWindow.memory! / perKeyWindow.fleet!, 2)}× fewer than in-process single-flight only (target ≥ 3.5); load average now ${load()}\n`);
    } finally {
      stopBurners();
    }
  }

  // 4. The fleet while Redis is frozen (SIGSTOP) in the middle of each burst: callers must not see it.
  if (part('sigstop')) {
    const emulator = await createEmulator({ latencyMs: 30 });
    closers.push(() => emulator.close());
    const commandTimeoutMs = 50;
    const stopBurners = startBurners(burnerCount);
    let workers: FleetWorker[] = [];
    try {
      workers = await Promise.all(Array.from({ length: 4 }, () => startWorker({ origin: emulator.origin, redisUrl: server.url, mode: 'fleet', ttlMs: 3000, commandTimeoutMs, built: true })));
      console.log(`Fleet with Redis frozen (SIGSTOP) 20 ms into each burst: 4 processes × 50 concurrent calls × 4 keys, commandTimeoutMs ${commandTimeoutMs}; ${burnerCount} CPU-bound processes beside it; load average ${load()}`);
      for (let round = 0; round < 3; round++) {
        const channels = Array.from({ length: 4 }, (_, i) => `stop-r${round}-k${i}`);
        const burst = Promise.all(workers.map((worker) => worker.request({ type: 'burst', channels, concurrency: 50 })));
        await sleep(20);
        server.pause();
        let replies;
        try {
          replies = await burst;
        } finally {
          server.resume();
        }
        const durations = replies.flatMap((r) => r.durations).sort((a, b) => a - b);
        const failed = replies.reduce((n, r) => n + r.failed.length, 0);
        console.log(`  round ${round + 1}: caller errors ${failed} of ${durations.length} | call p50 ${fmt(quantile(durations, 0.5), 1)} ms p99 ${fmt(quantile(durations, 0.99), 1)} ms max ${fmt(durations.at(-1)!, 1)} ms`);
        await sleep(500);
      }
      console.log('');
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
      stopBurners();
    }
  }
} finally {
  for (const close of closers.reverse()) await close();
  redis.disconnect();
  await server.stop();
}
