// `pnpm --filter @presence/bench instructions`: instructions executed per origin-path here-now,
// counted by valgrind's callgrind, for the client, the same work by hand, a raw node:http GET and
// the official pubnub SDK, signed and unsigned, 32 in flight. Instructions, unlike seconds, do not
// depend on what else the machine runs: this is the before/after measure for the client's own cost.
//
// For each setting: the emulator in its own native process; ONE measured process
// (lib/instructions-worker.ts) under `valgrind --tool=callgrind`, holding all four sides. Each side
// is warmed up (JIT tiering) with callgrind's instrumentation off, then measured in windows of
// INSTR_REQUESTS requests, the sides interleaved in rotating order: `callgrind_control -z` zeroes the
// counters, the worker runs the window, `callgrind_control -d` dumps them, and the dump's `totals:`
// line is the window's instruction count (every thread of the process: JIT, GC, libuv). Each window
// starts after a short burst that reopens the side's keep-alive pool, so no window pays for
// connections another one's idle time closed. The measured process runs without V8's memory reducer
// and bytecode flushing: both fire on wall-clock time, which valgrind stretches 50–100×, and made
// whole windows of extra major GCs and recompilation. (No forced GC between windows: a forced full GC
// shrinks the young generation and tripled the counts of the windows after it.) Prints every window, the median and spread per side,
// and the ratios of the medians. Built packages (run `pnpm build` first).
//
// INSTR_SETTINGS (default `signed,unsigned`: both at once, one core each), INSTR_WINDOWS (5),
// INSTR_REQUESTS (2000 per window), INSTR_WARMUP (5000 per side), INSTR_SIDES (all four),
// INSTR_KEEP_DUMPS (a folder: keep each window's dump there, for `callgrind_annotate`).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dumpWindow } from './lib/callgrind.js';
import { startEmulatorProcess } from './lib/emulator.js';
import type { WorkerMessage } from './lib/instructions-worker.js';
import { BENCH_SECRET_KEY, PUBLISH_KEY, SIDES, type Side } from './lib/origin-sides.js';
import { median, quantile } from './lib/stats.js';

const IN_FLIGHT = 32;
const WINDOWS = Number(process.env.INSTR_WINDOWS ?? 5);
const REQUESTS = Number(process.env.INSTR_REQUESTS ?? 2000);
const WARMUP = Number(process.env.INSTR_WARMUP ?? 5000);
const SETTINGS = (process.env.INSTR_SETTINGS ?? 'signed,unsigned').split(',') as Array<'signed' | 'unsigned'>;
const MEASURED = (process.env.INSTR_SIDES?.split(',') ?? SIDES) as Side[];
/** A folder to keep every window's callgrind dump in, for `callgrind_annotate` (which C++ and builtin functions, GC included, took the instructions). */
const KEEP_DUMPS = process.env.INSTR_KEEP_DUMPS;
if (KEEP_DUMPS) mkdirSync(KEEP_DUMPS, { recursive: true });
const run = promisify(execFile);

const core = import.meta.resolve('@presence/core');
if (!core.includes('/dist/')) throw new Error(`@presence/core resolves to ${core}, not to the build: run without --conditions=@presence/source`);

interface Counts {
  /** Instructions per request, every window. */
  all: Record<Side, number[]>;
  /** Of which the garbage collector's, every window. */
  gc: Record<Side, number[]>;
  /** Of which the optimizing compiler's, every window. */
  jit: Record<Side, number[]>;
}

async function measure(setting: 'signed' | 'unsigned'): Promise<Counts> {
  const signed = setting === 'signed';
  const log = (text: string) => process.stderr.write(`instructions ${setting}: ${text}\n`);
  const emulator = await startEmulatorProcess(signed ? { secretKey: BENCH_SECRET_KEY, publishKey: PUBLISH_KEY } : {});
  const dir = mkdtempSync(path.join(os.tmpdir(), 'presence-callgrind-'));
  const worker = spawn('valgrind', [
    '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${dir}/callgrind.%p`,
    process.execPath, '--no-memory-reducer', '--no-flush-bytecode', '--import', 'tsx', fileURLToPath(new URL('./lib/instructions-worker.ts', import.meta.url)),
  ], { env: { ...process.env, BENCH_ORIGIN: emulator.origin, BENCH_SIGNED: signed ? '1' : '0' }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  worker.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = once(worker, 'exit');
  exited.then(([code]) => code !== 0 && log(`worker exited ${code}:\n${stderr.slice(-2000)}`), () => undefined);
  const callgrind = (...args: string[]) => run('callgrind_control', [...args, String(worker.pid)]);
  const ask = async (message: WorkerMessage): Promise<void> => {
    const reply = once(worker, 'message');
    worker.send(message);
    await Promise.race([reply, exited.then(() => Promise.reject(new Error(`the worker exited: ${stderr.slice(-2000)}`)))]);
  };
  const started = Date.now();
  await Promise.race([once(worker, 'message'), exited.then(() => Promise.reject(new Error(`the worker exited: ${stderr.slice(-2000)}`)))]);
  log(`ready after ${((Date.now() - started) / 1000).toFixed(0)} s; warming up`);
  for (const side of MEASURED) await ask({ side, requests: WARMUP, inFlight: IN_FLIGHT });
  await callgrind('-i', 'on');
  const counts = Object.fromEntries(MEASURED.map((side) => [side, [] as number[]])) as Record<Side, number[]>;
  const collected = Object.fromEntries(MEASURED.map((side) => [side, [] as number[]])) as Record<Side, number[]>;
  const compiled = Object.fromEntries(MEASURED.map((side) => [side, [] as number[]])) as Record<Side, number[]>;
  for (let window = 0; window < WINDOWS; window++) {
    for (let i = 0; i < MEASURED.length; i++) {
      const side = MEASURED[(window + i) % MEASURED.length]!;
      await ask({ side, requests: 2 * IN_FLIGHT, inFlight: IN_FLIGHT });
      await callgrind('-z');
      await ask({ side, requests: REQUESTS, inFlight: IN_FLIGHT });
      const { all, gc, jit } = await dumpWindow(worker.pid!, dir, KEEP_DUMPS && path.join(KEEP_DUMPS, `${setting}-${side}-${window + 1}.callgrind`));
      counts[side].push(all / REQUESTS);
      collected[side].push(gc / REQUESTS);
      compiled[side].push(jit / REQUESTS);
      log(`window ${window + 1} ${side}: ${Math.round(all / REQUESTS).toLocaleString('en-US')} instructions/request, ${Math.round(collected[side].at(-1)!).toLocaleString('en-US')} of them GC, ${Math.round(compiled[side].at(-1)!).toLocaleString('en-US')} JIT compiler`);
    }
  }
  log(`measured in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  await ask('close').catch(() => undefined);
  await exited;
  const resent = /instructions worker: .*/.exec(stderr);
  if (resent) log(resent[0]);
  const { signatureFailures } = await emulator.setLatency(0);
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
  if (signatureFailures > 0) throw new Error(`the emulator refused ${signatureFailures} signatures`);
  return { all: counts, gc: collected, jit: compiled };
}

const k = (value: number) => `${(value / 1000).toFixed(1)}k`;
const results = await Promise.all(SETTINGS.map(measure));
const spread = (values: number[]) => `${k(quantile(values, 0))}–${k(quantile(values, 1))}`;
const lines = [
  `Instructions per here-now (callgrind), ${IN_FLIGHT} in flight, ${WINDOWS} windows of ${REQUESTS} requests per side after ${WARMUP} warm-up requests; Node ${process.version}; ${new Date().toISOString()}.`,
  '',
  '| setting | side | instructions/request, median (min–max) | outside GC and JIT, median (min–max) | GC, median (min–max) | JIT compiler, median (min–max) | every window: all / outside GC and JIT |',
  '|---|---|---|---|---|---|---|',
];
SETTINGS.forEach((setting, s) => {
  for (const side of MEASURED) {
    const all = results[s]!.all[side];
    const { gc, jit } = { gc: results[s]!.gc[side], jit: results[s]!.jit[side] };
    const mutator = all.map((value, i) => value - gc[i]! - jit[i]!);
    lines.push(`| ${setting} | ${side} | **${k(median(all))}** (${spread(all)}) | **${k(median(mutator))}** (${spread(mutator)}) | ${k(median(gc))} (${spread(gc)}) | ${k(median(jit))} (${spread(jit)}) | ${all.map((value, i) => `${k(value)} / ${k(mutator[i]!)}`).join(', ')} |`);
  }
});
const ratios: string[] = [];
SETTINGS.forEach((setting, s) => {
  const all = (side: Side) => median(results[s]!.all[side]);
  const mutator = (side: Side) => median(results[s]!.all[side].map((value, i) => value - results[s]!.gc[side][i]! - results[s]!.jit[side][i]!));
  for (const baseline of ['hand', 'raw', 'sdk'] as const) {
    if (!MEASURED.includes('client') || !MEASURED.includes(baseline)) continue;
    ratios.push(`${setting}: ${baseline} / client ${(all(baseline) / all('client')).toFixed(2)} (outside GC and JIT ${(mutator(baseline) / mutator('client')).toFixed(2)})`);
  }
});
lines.push('', `Ratios of the medians (baseline / client: above 1, the client executes fewer instructions): ${ratios.join('; ')}.`);
console.log(lines.join('\n'));
