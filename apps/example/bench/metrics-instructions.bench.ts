/**
 * What prometheusMetrics() costs where users pay for it, counted in instructions rather than
 * seconds: the example service's `GET /rooms/:room/presence`, with and without the plugin.
 * Instructions executed by the service process do not depend on how busy the machine is, so this
 * holds on a shared machine where CPU-time comparisons (metrics-cost.bench.ts) swing by percents.
 *
 *   cached   the answer comes from memoryCache (warm: every request an L1 hit)
 *   origin   no cache: every request is a here-now to the emulator (natively, in its own process)
 *   call     for information: a cached hereNow() alone, no HTTP (memory transport), CALLS calls
 *            a window, started by one GET; instructions per call
 *
 * Each service runs as plain node (this file bundled by esbuild, so no TypeScript loader runs in
 * it) under valgrind's callgrind, which counts the instructions the process executes. Per scenario
 * there are three sides, each PROCESSES processes: plain, plain again (the noise floor: two plain
 * processes differ by their own JIT and heap luck) and with the plugin. Each process first serves
 * WARMUP requests with callgrind's instrumentation off (fast), then SETTLE more with it on (V8 goes
 * on compiling for a while once instrumentation slows it down), then WINDOWS windows: callgrind's
 * counters are zeroed, REQUESTS requests are sent by curl (native, CONCURRENCY in flight on
 * keep-alive connections), the counters are dumped and the window's instructions per request read
 * from the dump, in all and outside the garbage collector and V8's optimizing compilers. Window w
 * of every process has done the same work since start-up: sides are compared window by window.
 * Reported, for both measures: every window; per side the mean over all windows against plain's,
 * and the median of the window-by-window ratios. Processes run at the same time (counts do not
 * depend on timing). KEEP_DUMPS=<folder> keeps every window's dump for callgrind_annotate. Not a test.
 *
 * Needs valgrind (callgrind_control) and curl on the PATH.
 * Run: pnpm --filter @presence/example bench:instructions
 *   (PROCESSES=2 per side, WINDOWS=4, REQUESTS=400 per window, WARMUP=20000, SETTLE=2000,
 *    CALLS=20000 per window, CONCURRENCY=8, USERS=20, SCENARIOS=cached,origin,call); about 10 min
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createPresence } from '@presence/core';
import { createEmulator } from '@presence/emulator';
import { httpTransport } from '@presence/transport-http';
import { dumpWindow, type WindowInstructions } from '../../../bench/lib/callgrind.js';
import { quantile } from './quantile.js';
import { cachedCallClient, replicaService, SUBSCRIBE_KEY } from './sides.js';

const PROCESSES = Number(process.env.PROCESSES ?? 2);
const WINDOWS = Number(process.env.WINDOWS ?? 4);
const REQUESTS = Number(process.env.REQUESTS ?? 400);
const WARMUP = Number(process.env.WARMUP ?? 20_000);
const SETTLE = Number(process.env.SETTLE ?? 2000);
/** A folder to keep every window's dump in (named scenario-side-process-window), for callgrind_annotate; by default they are removed. */
const KEEP_DUMPS = process.env.KEEP_DUMPS;
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const USERS = Number(process.env.USERS ?? 20);
const CALLS = Number(process.env.CALLS ?? 20_000);
const SCENARIOS = (process.env.SCENARIOS ?? 'cached,origin,call').split(',');
const PATH = '/rooms/lobby/presence';
const SIDES = ['plain', 'plain again', 'metrics'] as const;
const run = promisify(execFile);

/** A child (in the bundle): the emulator, a bare client (`call`), or one service as apps/example/src/app.ts builds a replica. */
async function child(role: string): Promise<void> {
  const listening = (server: Server) => () => console.log(JSON.stringify({ origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  if (role === 'emulator') {
    console.log(JSON.stringify({ origin: (await createEmulator()).origin }));
  } else if (role === 'call') {
    // Cached hereNow() calls in a loop, `n` of them per GET /calls?n=…
    const { hereNow } = cachedCallClient();
    const server = createServer((req, res) => {
      const calls = Number(new URL(req.url!, 'http://bench').searchParams.get('n'));
      void (async () => {
        for (let i = 0; i < calls; i++) await hereNow();
        res.end('done');
      })();
    });
    server.keepAliveTimeout = 10 * 60_000;
    server.listen(0, '127.0.0.1', listening(server));
  } else {
    // Under valgrind a call is tens of times slower than natively.
    const { server } = replicaService({ timeoutMs: 120_000 });
    server.listen(0, '127.0.0.1', listening(server));
  }
}

/** Starts a bundled child (under `wrap`, e.g. valgrind) and resolves with it and its origin once it listens. */
function start(bundle: string, role: string, env: Record<string, string>, wrap: string[] = []): Promise<{ process: ChildProcess; origin: string }> {
  // The same V8 flags on every side: no timer-driven memory reducer and no bytecode flushing, so a
  // window's garbage collection and compilation depend on the work done, not on how slowly
  // valgrind ran it.
  const command = [...wrap, process.execPath, ...(wrap.length > 0 ? ['--no-memory-reducer', '--no-flush-bytecode'] : []), bundle];
  const proc = spawn(command[0]!, command.slice(1), { env: { ...process.env, BENCH_ROLE: role, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  proc.stderr.on('data', (chunk: Buffer) => void (errors = (errors + chunk.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    proc.stdout.once('data', (chunk: Buffer) => resolve({ process: proc, origin: (JSON.parse(chunk.toString()) as { origin: string }).origin }));
    proc.once('exit', (code) => reject(new Error(`the ${role} process exited (${code}) before it listened:\n${errors}`)));
  });
}

/** `count` GETs by curl, CONCURRENCY at a time on keep-alive connections; fails unless every answer is 200. */
async function load(origin: string, count: number, directory: string, path = PATH): Promise<void> {
  const config = join(directory, `curl-${origin.replace(/\W/g, '-')}-${count}-${path.replace(/\W/g, '-')}.txt`);
  await writeFile(config, `url = "${origin}${path}"\noutput = "/dev/null"\n`.repeat(count));
  const { stdout } = await run('curl', ['-sS', '--parallel', '--parallel-max', String(CONCURRENCY), '-w', '%{http_code}\n', '-K', config], { maxBuffer: 64 * 1024 * 1024 });
  const codes = stdout.trim().split('\n');
  const bad = codes.filter((code) => code !== '200');
  if (codes.length !== count || bad.length > 0) throw new Error(`GET ${origin}${path}: ${codes.length} answers of ${count}, not 200: ${bad.slice(0, 5).join(', ')}`);
}

/** The commit measured, marked when the work tree has changes. */
async function commitOfThisRun(): Promise<string> {
  try {
    const head = (await run('git', ['rev-parse', '--short', 'HEAD'])).stdout.trim();
    return (await run('git', ['status', '--porcelain'])).stdout.trim() === '' ? head : `${head} with uncommitted changes`;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const commit = await commitOfThisRun(); // before the bundle is built from the work tree
  if (KEEP_DUMPS) await mkdir(KEEP_DUMPS, { recursive: true });
  const directory = await mkdtemp(join(tmpdir(), 'metrics-instructions-'));
  const bundle = join(directory, 'bench.mjs');
  const { build } = await import('esbuild');
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@presence/source'],
    external: ['esbuild'],
    // prom-client and other CommonJS dependencies call require() for node's own modules.
    banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  // The page's assets, read next to the module that serves them.
  await cp(fileURLToPath(new URL('../src/page', import.meta.url)), join(directory, 'page'), { recursive: true });

  const emulator = await start(bundle, 'emulator', {});
  const origin = emulator.origin;
  // The room the services read: USERS occupants, renewed every minute (a heartbeat lasts 300 s at most).
  const seeder = createPresence({ subscribeKey: SUBSCRIBE_KEY, userId: 'seeder', transport: httpTransport({ origin }) });
  const seed = async (): Promise<void> => {
    for (let i = 0; i < USERS; i++) await seeder.heartbeat({ channels: ['lobby'], heartbeat: 300, userId: `user-${i}` });
  };
  await seed();
  const reseed = setInterval(() => void seed(), 60_000);

  const callgrind = ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${join(directory, 'callgrind.%p')}`];
  const results = new Map<string, WindowInstructions[][]>(); // scenario/side → per process, per window: instructions per request
  const started = Date.now();
  try {
    for (const scenario of SCENARIOS) {
      const env = { BENCH_ORIGIN: origin, BENCH_CACHE: scenario === 'cached' ? '1' : '0' };
      const processes = SIDES.flatMap((side) => Array.from({ length: PROCESSES }, () => ({ side, env: { ...env, BENCH_METRICS: side === 'metrics' ? '1' : '0' } })));
      await Promise.all(
        processes.map(async ({ side, env: sideEnv }, index) => {
          const service = await start(bundle, scenario === 'call' ? 'call' : 'service', sideEnv, callgrind);
          // A `call` window is one GET that makes CALLS calls; a service window is REQUESTS GETs.
          const send = (requests: number) => (scenario === 'call' ? load(service.origin, 1, directory, `/calls?n=${requests * (CALLS / REQUESTS)}`) : load(service.origin, requests, directory));
          const perWindow = scenario === 'call' ? CALLS : REQUESTS;
          const pid = String(service.process.pid);
          try {
            // Instrumentation (the slow part) starts after the warm-up: V8 keeps compiling hot code
            // for thousands of requests, and a window that still pays for that measures start-up.
            await send(WARMUP);
            await run('callgrind_control', ['-i', 'on', pid]);
            await send(SETTLE);
            const windows: WindowInstructions[] = [];
            for (let w = 0; w < WINDOWS; w++) {
              await run('callgrind_control', ['-z', pid]);
              await send(REQUESTS);
              const { all, gc, jit } = await dumpWindow(service.process.pid!, directory, KEEP_DUMPS && join(KEEP_DUMPS, `${scenario}-${side.replace(' ', '-')}-${(index % PROCESSES) + 1}-${w + 1}.callgrind`));
              windows.push({ all: all / perWindow, gc: gc / perWindow, jit: jit / perWindow });
              console.error(`  ${scenario}/${side} pid ${pid} window ${w + 1}: ${(all / perWindow).toFixed(0)} (GC ${(gc / perWindow).toFixed(0)}, JIT ${(jit / perWindow).toFixed(0)})`);
            }
            const key = `${scenario}/${side}`;
            results.set(key, [...(results.get(key) ?? []), windows]);
          } finally {
            // valgrind writes its last dump into the directory as the process exits: wait for it,
            // or removing the directory below races with that write.
            const exited = service.process.exitCode === null && service.process.signalCode === null ? once(service.process, 'exit') : undefined;
            service.process.kill();
            await exited;
          }
        }),
      );
    }
  } finally {
    clearInterval(reseed);
    await seeder.close();
    emulator.process.kill();
    await rm(directory, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }

  const thousands = (n: number): string => `${(n / 1000).toFixed(1)}k`;
  const pct = (n: number): string => `${n >= 0 ? '+' : ''}${(n * 100).toFixed(2)}%`;
  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  console.log(
    `GET ${PATH} through the example service, instructions per request of the service process (valgrind callgrind), ${PROCESSES} processes per side x ${WINDOWS} windows of ${REQUESTS} requests after ${WARMUP} warm-up requests and ${SETTLE} more instrumented, ${CONCURRENCY} in flight; git ${commit}; node ${process.version}, ${cpus().length} cpus, load average at the end ${loadavg().map((n) => n.toFixed(2)).join(' ')}, ${((Date.now() - started) / 60_000).toFixed(1)} min`,
  );
  console.log('  The same window of every process does the same work since start-up, and so meets the same garbage collections: sides are compared window by window (the mean over its processes against plain\'s).');
  // Two measures of a window: all its instructions, and those outside the garbage collector and the
  // optimizing compilers (what the requests themselves ran). A major collection or a recompilation
  // lands in whichever window it falls in; the second measure leaves that luck out, and the first
  // keeps the plugin's share of it (its allocations make collections a little more frequent).
  const measures = { all: (w: WindowInstructions) => w.all, 'outside GC and JIT': (w: WindowInstructions) => w.all - w.gc - w.jit } as const;
  for (const scenario of SCENARIOS) {
    const unit = scenario === 'call' ? 'call' : 'request';
    for (const [measureName, measure] of Object.entries(measures)) {
      console.log(`  ${scenario}, ${measureName}: instructions/${unit}`);
      const perWindow = (side: string): number[] => Array.from({ length: WINDOWS }, (_, w) => mean(results.get(`${scenario}/${side}`)!.map((windows) => measure(windows[w]!))));
      const plain = perWindow('plain');
      for (const side of SIDES) {
        const perProcess = results.get(`${scenario}/${side}`)!.map((windows) => windows.map(measure));
        const all = perProcess.flat();
        const ratios = perWindow(side).map((value, w) => value / plain[w]! - 1);
        const against = side === 'plain' ? '' : `  against plain: all windows ${pct(mean(perWindow(side)) / mean(plain) - 1)}, by window median ${pct(quantile(ratios, 0.5))} (${ratios.map(pct).join(' ')})`;
        console.log(`    ${side.padEnd(12)} mean ${thousands(mean(all))} (windows ${thousands(Math.min(...all))} to ${thousands(Math.max(...all))})${against}`);
        perProcess.forEach((windows, i) => console.log(`      process ${i + 1}: ${windows.map(thousands).join(' ')}`));
      }
    }
  }
}

if (process.env.BENCH_ROLE) await child(process.env.BENCH_ROLE);
else await main();
