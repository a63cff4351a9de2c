// A fleet of 4 processes per cache setting, each asking 50 times at once for each of 4 keys, once
// per cache window: how many here-now calls reach the origin per key per window. The three
// settings run at the same time (each its own emulator, each its own Redis keys), window by window.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createEmulator, type Emulator } from '@presence/emulator';
import { startRedisServer } from '@presence/cache-redis/testing';
import type { FleetMode } from '../lib/fleet-worker.js';
import { ROUNDS, report } from '../lib/section.js';
import { pairedRow } from '../lib/stats.js';

const PROCESSES = 4;
const CONCURRENCY = 50;
const TTL_MS = 1000;
const CHANNELS = ['lobby', 'kitchen', 'garden', 'attic'];
const MODES: FleetMode[] = ['fleet', 'no-lock', 'memory'];
const section = `fleet: ${PROCESSES} processes × ${CONCURRENCY} concurrent calls × ${CHANNELS.length} keys, upstream 30 ms`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const server = await startRedisServer();
const emulators = new Map<FleetMode, Emulator>();
const workers = new Map<FleetMode, ChildProcess[]>();
const perWindow = new Map<FleetMode, number[]>(MODES.map((mode) => [mode, []]));

function startWorker(mode: FleetMode, origin: string): Promise<ChildProcess> {
  const child = fork(fileURLToPath(new URL('../lib/fleet-worker.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, FLEET_MODE: mode, FLEET_ORIGIN: origin, FLEET_REDIS_URL: server.url, FLEET_TTL_MS: String(TTL_MS) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return once(child, 'message').then(() => child);
}

async function burst(child: ChildProcess): Promise<void> {
  const reply = once(child, 'message');
  child.send({ channels: CHANNELS, concurrency: CONCURRENCY });
  const [{ failed }] = (await reply) as [{ failed: string[] }];
  if (failed.length) throw new Error(`fleet calls failed: ${failed.slice(0, 3).join('; ')}`);
}

try {
  for (const mode of MODES) {
    const emulator = await createEmulator({ latencyMs: 30 });
    emulators.set(mode, emulator);
    workers.set(mode, await Promise.all(Array.from({ length: PROCESSES }, () => startWorker(mode, emulator.origin))));
  }
  const upstream = (mode: FleetMode) => emulators.get(mode)!.stats().requests.byOperation.hereNow ?? 0;
  // Window 0 warms every worker (JIT, sockets, Redis connections) and is not counted.
  for (let window = 0; window <= ROUNDS; window++) {
    const before = new Map(MODES.map((mode) => [mode, upstream(mode)]));
    await Promise.all(MODES.flatMap((mode) => workers.get(mode)!.map(burst)));
    if (window > 0) for (const mode of MODES) perWindow.get(mode)!.push((upstream(mode) - before.get(mode)!) / CHANNELS.length);
    // Let every cached answer expire before the next window (counted from the burst's end: on a
    // busy machine the last answer may be stored well after the window began).
    await sleep(TTL_MS + 100);
  }
} finally {
  for (const children of workers.values()) {
    await Promise.all(children.map(async (child) => {
      const exited = once(child, 'exit');
      child.send('close');
      await exited;
    }));
  }
  for (const emulator of emulators.values()) await emulator.close();
  await server.stop();
}
const fleet = perWindow.get('fleet')!;
const fewer = (baseline: number[]) => baseline.map((value, i) => value / fleet[i]!);
report([
  pairedRow({ section, name: 'upstream calls per key per window: redisCache (fleet lock) vs redisCache lock: false', unit: 'calls/key/window', ours: fleet, baseline: perWindow.get('no-lock')!, ratios: fewer(perWindow.get('no-lock')!), note: 'ratio = baseline / ours: × fewer upstream calls' }),
  pairedRow({ section, name: 'upstream calls per key per window: redisCache (fleet lock) vs core memoryCache (in-process single-flight only)', unit: 'calls/key/window', ours: fleet, baseline: perWindow.get('memory')!, ratios: fewer(perWindow.get('memory')!), goal: '≥ 3.5', note: 'ratio = baseline / ours: × fewer upstream calls' }),
]);
