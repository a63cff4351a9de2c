// pnpm bench:roster — side-by-side figures for the README. Not a test: nothing here asserts a speed.
// Starts its own redis-server and emulator; the fleet parts fork 4 worker processes per mode.
//   ROSTER_BENCH_SECONDS  length of one fleet round (default 20; 3 rounds per mode = 60 s each)
import { cpus, loadavg } from 'node:os';
import { createPresence, memoryCache, type PresenceClient } from '@presence/core';
import { createEmulator } from '@presence/emulator';
import { roster } from '@presence/roster';
import { httpTransport } from '@presence/transport-http';
import { startRosterWorker, type RosterWorker } from '../test/roster-fleet.js';
import { sleep } from '../test/helpers.js';
import { connect, startRedisServer } from '../src/testing.js';

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const spread = (values: number[]): string => `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;
const ROUND_SECONDS = Number(process.env.ROSTER_BENCH_SECONDS ?? 20);
const ROUNDS = 3;
const ROOMS = Array.from({ length: 50 }, (_, i) => `room-${String(i).padStart(2, '0')}`);

const server = await startRedisServer();
const emulator = await createEmulator({ hereNowCacheMs: 3000, subscribeHoldMs: 5000 });
const closers: Array<() => unknown> = [];
const admin = await connect(server.port);
closers.push(() => admin.disconnect());
const driver = createPresence({ subscribeKey: 'sub-c-fleet', userId: 'driver', transport: httpTransport({ origin: emulator.origin }) });
closers.push(() => driver.close());

try {
  console.log(`presence roster benchmark — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (a shared machine)\n`);
  for (let i = 0; i < 400; i++) await driver.heartbeat({ channels: [ROOMS[i % ROOMS.length]!], heartbeat: 300, userId: `user-${i}` });

  // 1. Upstream here-now calls of 4 replicas answering at full speed: redisRoster vs redisCache alone.
  const hereNowCalls = (): number => emulator.stats().requests.byOperation.hereNow;
  const fleet: Record<'roster' | 'cache', { upstream: number[]; calls: number[]; errors: number; answers: Record<string, number> }> = {
    roster: { upstream: [], calls: [], errors: 0, answers: {} },
    cache: { upstream: [], calls: [], errors: 0, answers: {} },
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating modes, so a change in the machine's load lands on both.
    for (const mode of ['roster', 'cache'] as const) {
      await admin.flushall(); // a clean Redis for each round
      const workers: RosterWorker[] = await Promise.all(Array.from({ length: 4 }, () => startRosterWorker({ origin: emulator.origin, redisUrl: server.url, channels: ROOMS, mode, leaseMs: 2000, upstreamCacheMs: 3000, cacheTtlMs: 3000 })));
      // Seeding is not the steady state: wait until every replica answers from its roster.
      if (mode === 'roster') {
        for (;;) {
          const statuses = await Promise.all(workers.map((w) => w.request<'status'>({ type: 'status' })));
          if (statuses.every((s) => s.ready)) break;
          await sleep(100);
        }
      }
      const before = hereNowCalls();
      const bursts = await Promise.all(workers.map((w) => w.request<'burst'>({ type: 'burst', channels: ROOMS, durationMs: ROUND_SECONDS * 1000, concurrency: 8 })));
      fleet[mode].upstream.push(hereNowCalls() - before);
      fleet[mode].calls.push(bursts.reduce((sum, b) => sum + b.calls, 0) / ROUND_SECONDS);
      fleet[mode].errors += bursts.reduce((sum, b) => sum + b.errors, 0);
      for (const burst of bursts) for (const [result, count] of Object.entries(burst.answers)) fleet[mode].answers[result] = (fleet[mode].answers[result] ?? 0) + count;
      await Promise.all(workers.map((w) => w.close()));
    }
  }
  const windows = (ROUND_SECONDS * 1000) / 3000;
  console.log(`1. 4 replicas × 8 loops of here-now over ${ROOMS.length} rooms, ${ROUND_SECONDS} s per round, ${ROUNDS} rounds per mode (median, min–max):`);
  console.log(`   redisRoster: upstream here-now calls per round ${fmt(median(fleet.roster.upstream))} (${spread(fleet.roster.upstream)}), fleet calls/s ${fmt(median(fleet.roster.calls))} (${spread(fleet.roster.calls)}), caller errors ${fleet.roster.errors}, roster answers ${JSON.stringify(fleet.roster.answers)}`);
  console.log(`   redisCache : upstream here-now calls per round ${fmt(median(fleet.cache.upstream))} (${spread(fleet.cache.upstream)}), fleet calls/s ${fmt(median(fleet.cache.calls))} (${spread(fleet.cache.calls)}), caller errors ${fleet.cache.errors}`);
  console.log(`   (one per room per 3 s window would be ${fmt(ROOMS.length * windows)} per round)\n`);

  // 2. One process: here-now answered from the roster vs an L1 hit of memoryCache, the whole client call.
  {
    const live = roster({ channels: ROOMS, upstreamCacheMs: 0 });
    const fromRoster: PresenceClient = createPresence({ subscribeKey: 'sub-c-fleet', userId: 'bench', transport: httpTransport({ origin: emulator.origin }), plugins: [live] });
    const fromCache: PresenceClient = createPresence({ subscribeKey: 'sub-c-fleet', userId: 'bench', transport: httpTransport({ origin: emulator.origin }), plugins: [memoryCache({ ttlMs: 3_600_000 })] });
    closers.push(() => fromRoster.close(), () => fromCache.close());
    await live.ready;
    for (const room of ROOMS) await fromCache.hereNow({ channels: [room] });
    const measure = async (client: PresenceClient): Promise<number> => {
      const iterations = 100_000;
      const started = performance.now();
      for (let i = 0; i < iterations; i++) await client.hereNow({ channels: [ROOMS[i % ROOMS.length]!] });
      return iterations / ((performance.now() - started) / 1000);
    };
    await measure(fromRoster);
    await measure(fromCache); // warm-up
    const rosterOps: number[] = [];
    const cacheOps: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < 7; round++) {
      const r = await measure(fromRoster);
      const c = await measure(fromCache);
      rosterOps.push(r);
      cacheOps.push(c);
      ratios.push(r / c);
    }
    console.log('2. here-now for one of 50 rooms, whole client call, one process (7 rounds, median, min–max):');
    console.log(`   from the roster : ${fmt(median(rosterOps))} ops/s (${spread(rosterOps)})`);
    console.log(`   memoryCache hit : ${fmt(median(cacheOps))} ops/s (${spread(cacheOps)})`);
    console.log(`   ratio roster/L1 : ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})\n`);
  }

  // 3. Event to visible across a fleet: a join, then the time until each of 4 processes holds it.
  {
    await admin.flushall();
    const workers = await Promise.all(Array.from({ length: 4 }, () => startRosterWorker({ origin: emulator.origin, redisUrl: server.url, channels: ROOMS, mode: 'roster', leaseMs: 2000, upstreamCacheMs: 0 })));
    closers.push(() => Promise.all(workers.map((w) => w.close())));
    for (;;) {
      const statuses = await Promise.all(workers.map((w) => w.request<'status'>({ type: 'status' })));
      if (statuses.every((s) => s.ready)) break;
      await sleep(100);
    }
    const leaderSamples: number[] = [];
    const mirrorSamples: number[] = [];
    for (let i = 0; i < 200; i++) {
      const sentAt = Date.now();
      await driver.heartbeat({ channels: [ROOMS[i % ROOMS.length]!], heartbeat: 300, userId: `visitor-${i}` });
      for (const worker of workers) {
        for (;;) {
          const status = await worker.request<'status'>({ type: 'status' });
          if (status.lastDiffAt !== undefined && status.lastDiffAt >= sentAt) {
            (status.role === 'leader' ? leaderSamples : mirrorSamples).push(status.lastDiffAt - sentAt);
            break;
          }
          await sleep(1);
        }
      }
    }
    const pct = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
    console.log('3. event to visible (heartbeat sent → diff applied in the process), 200 joins, Date.now() on one machine:');
    console.log(`   leader : p50 ${pct(leaderSamples, 0.5)} ms, p99 ${pct(leaderSamples, 0.99)} ms (${leaderSamples.length} samples)`);
    console.log(`   mirrors: p50 ${pct(mirrorSamples, 0.5)} ms, p99 ${pct(mirrorSamples, 0.99)} ms (${mirrorSamples.length} samples)`);
  }
} finally {
  for (const close of closers.reverse()) await close();
  await emulator.close();
  await server.stop();
}
