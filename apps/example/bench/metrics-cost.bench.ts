/**
 * What prometheusMetrics() costs where users pay for it: the example service's
 * `GET /rooms/:room/presence`, with and without the plugin, side by side in one run.
 *
 *   cached   the answer comes from memoryCache (warm: every request an L1 hit)
 *   origin   no cache: every request is a here-now to the emulator (its own process)
 *   call     for information: a cached hereNow() alone, no HTTP (memory transport)
 *
 * Every side runs in its own process (a service runs one client configuration; sides sharing a
 * process would shape each other's JIT), and the HTTP scenarios have a second plain service, the
 * noise floor. The processes are started afresh for each of SETS sets of rounds, so no figure
 * rests on one process's luck. Within a round the load generator (this process, keep-alive, CONCURRENCY requests
 * in flight) sends the requests of all sides of a scenario interleaved, one side after the other,
 * so the sides share the same moments of a busy machine. Per round and side: the service
 * process's CPU time per request (user + system, process.cpuUsage()) and the mean latency seen by
 * the load generator. Reported: the median and quartiles over rounds of the ratio to the plain
 * side of the same round. The two `call` processes run their rounds at the same time. Not a test.
 *
 * Run: pnpm --filter @presence/example bench
 *   (SETS=3, ROUNDS=60 in all, CACHED_REQUESTS=3000, ORIGIN_REQUESTS=1000 per side and round, CALLS=100000, CONCURRENCY=8, USERS=20, WARMUP_ROUNDS=10 rounds' worth of requests per side before the first)
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createPresence } from '@presence/core';
import { createEmulator } from '@presence/emulator';
import { httpTransport } from '@presence/transport-http';
import { quantile } from './quantile.js';
import { cachedCallClient, replicaService, SUBSCRIBE_KEY } from './sides.js';

const SETS = Number(process.env.SETS ?? 3);
const ROUNDS = SETS * Math.ceil(Number(process.env.ROUNDS ?? 60) / SETS);
const CACHED_REQUESTS = Number(process.env.CACHED_REQUESTS ?? 3000);
const ORIGIN_REQUESTS = Number(process.env.ORIGIN_REQUESTS ?? 1000);
const CALLS = Number(process.env.CALLS ?? 100_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const WARMUP_ROUNDS = Number(process.env.WARMUP_ROUNDS ?? 10);
const USERS = Number(process.env.USERS ?? 20);
const PATH = '/rooms/lobby/presence';

interface Measure {
  /** CPU microseconds of the measured process per request (or call). */
  cpuUs: number;
  /** Mean latency per request in microseconds, as the load generator saw it (calls: wall time per call). */
  latencyUs: number;
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** A child: one service, the emulator, or a bare client, by BENCH_ROLE. */
async function child(role: string): Promise<void> {
  if (role === 'emulator') {
    const emulator = await createEmulator();
    process.send!({ ready: true, origin: emulator.origin });
    process.on('disconnect', () => void emulator.close().then(() => process.exit(0)));
    return;
  }
  if (role === 'service') {
    const { presence, server } = replicaService();
    server.listen(0, '127.0.0.1', () => process.send!({ ready: true, port: (server.address() as AddressInfo).port }));
    let started = 0;
    process.on('message', (message) => {
      if (message === 'start') started = cpuMicros();
      process.send!({ cpuUs: cpuMicros() - started, latencyUs: 0 });
    });
    process.on('disconnect', () => {
      server.close();
      server.closeAllConnections();
      void presence.close().then(() => process.exit(0));
    });
    return;
  }
  // role === 'call': cached hereNow() calls in a loop, one round per message.
  const { client, hereNow } = cachedCallClient();
  const round = async (calls: number): Promise<Measure> => {
    const cpu = cpuMicros();
    const started = performance.now();
    for (let i = 0; i < calls; i++) await hereNow();
    return { cpuUs: (cpuMicros() - cpu) / calls, latencyUs: ((performance.now() - started) * 1000) / calls };
  };
  await round(50_000); // warm: fill the cache, let the JIT settle
  process.send!({ ready: true });
  process.on('message', (message) => void round(message as number).then((result) => process.send!(result)));
  process.on('disconnect', () => void client.close().then(() => process.exit(0)));
}

function start(role: string, env: Record<string, string>): Promise<{ process: ChildProcess; port?: number; origin?: string }> {
  const proc = fork(fileURLToPath(import.meta.url), { env: { ...process.env, BENCH_ROLE: role, ...env }, execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('message', (reply) => resolve({ process: proc, ...(reply as { port?: number; origin?: string }) }));
    proc.once('exit', (code) => reject(new Error(`the ${role} process exited (${code}) before it was ready`)));
  });
}

function ask(proc: ChildProcess, message: unknown): Promise<Measure> {
  return new Promise((resolve) => {
    proc.once('message', (reply) => resolve(reply as Measure));
    proc.send(message as string);
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function get(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: PATH, agent }, (res) => {
      res.resume();
      res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`GET ${PATH}: ${res.statusCode}`))));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${PATH}: no answer in 30 s`)));
    req.once('error', reject);
  });
}

type Service = { process: ChildProcess; port?: number };

/** `requests` GETs per side, CONCURRENCY at a time, the sides interleaved; each service's CPU time is read around them. */
async function load(services: readonly Service[], requests: number): Promise<Measure[]> {
  await Promise.all(services.map((service) => ask(service.process, 'start')));
  const latencyUs = services.map(() => 0);
  let next = 0;
  const total = requests * services.length;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < total; i = next++) {
        const side = i % services.length;
        const started = performance.now();
        await get(services[side]!.port!);
        latencyUs[side]! += (performance.now() - started) * 1000;
      }
    }),
  );
  const cpu = await Promise.all(services.map((service) => ask(service.process, 'stop')));
  return services.map((_, side) => ({ cpuUs: cpu[side]!.cpuUs / requests, latencyUs: latencyUs[side]! / requests }));
}

async function main(): Promise<void> {
  const emulator = await start('emulator', {});
  const origin = emulator.origin!;
  // The room the service reads: USERS occupants, renewed every round (a heartbeat lasts 300 s at most).
  const seeder = createPresence({ subscribeKey: SUBSCRIBE_KEY, userId: 'seeder', transport: httpTransport({ origin }) });
  const seed = async (): Promise<void> => {
    for (let i = 0; i < USERS; i++) await seeder.heartbeat({ channels: ['lobby'], heartbeat: 300, userId: `user-${i}` });
  };
  await seed();

  const service = (cache: boolean, metrics: boolean) => start('service', { BENCH_ORIGIN: origin, BENCH_CACHE: cache ? '1' : '0', BENCH_METRICS: metrics ? '1' : '0' });
  const results = new Map<string, Measure[]>();
  const record = (key: string, measure: Measure): void => void results.set(key, [...(results.get(key) ?? []), measure]);
  let round = 0;
  // Fresh processes for every set: a process's own luck (heap layout, JIT decisions) is a few
  // percent either way, so each set is a new draw of it.
  for (let set = 0; set < SETS; set++) {
    const scenarios = [
      { name: 'cached', requests: CACHED_REQUESTS, sides: { plain: await service(true, false), 'plain again': await service(true, false), metrics: await service(true, true) } },
      { name: 'origin', requests: ORIGIN_REQUESTS, sides: { plain: await service(false, false), 'plain again': await service(false, false), metrics: await service(false, true) } },
    ];
    const calls = { plain: await start('call', { BENCH_METRICS: '0' }), metrics: await start('call', { BENCH_METRICS: '1' }) };
    // Warm-up, not recorded: V8 goes on optimizing a service's code for thousands of requests (on
    // background threads, whose CPU time counts), and the side with more code to optimize would pay
    // for it in the first rounds.
    for (const { sides, requests } of scenarios) await load(Object.values(sides), requests * WARMUP_ROUNDS);
    for (let end = round + ROUNDS / SETS; round < end; round++) {
      await seed();
      for (const { name, sides, requests } of scenarios) {
        // The side that goes first in the interleaving rotates from round to round.
        const names = Object.keys(sides).map((_, i, all) => all[(round + i) % all.length]!) as Array<keyof typeof sides>;
        const measures = await load(names.map((side) => sides[side]), requests);
        names.forEach((side, i) => record(`${name}/${side}`, measures[i]!));
      }
      const measures = await Promise.all([ask(calls.plain.process, CALLS), ask(calls.metrics.process, CALLS)]);
      record('call/plain', measures[0]);
      record('call/metrics', measures[1]);
    }
    agent.destroy(); // the next set's services listen on new ports
    for (const proc of [...scenarios.flatMap((s) => Object.values(s.sides)), ...Object.values(calls)]) proc.process.disconnect();
  }

  const pct = (n: number): string => `${n >= 0 ? '+' : ''}${(n * 100).toFixed(1)}%`.padStart(6);
  const spread = (values: number[]): string => `${pct(quantile(values, 0.5))} (${pct(quantile(values, 0.25))} to ${pct(quantile(values, 0.75))})`;
  console.log(`GET ${PATH} through the example service, ${SETS} sets of processes x ${ROUNDS / SETS} rounds; node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), load average at the end ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  console.log(`  ${'scenario/side'.padEnd(20)} ${'CPU µs/req'.padStart(10)} ${'latency µs'.padStart(10)}   against plain in the same round, median (quartiles): CPU per request | latency`);
  for (const scenario of ['cached', 'origin', 'call']) {
    const plain = results.get(`${scenario}/plain`)!;
    for (const side of ['plain', 'plain again', 'metrics']) {
      const measures = results.get(`${scenario}/${side}`);
      if (!measures) continue;
      const cpu = quantile(measures.map((m) => m.cpuUs), 0.5);
      const latency = quantile(measures.map((m) => m.latencyUs), 0.5);
      const paired = side === 'plain' ? '' : `   ${spread(measures.map((m, r) => m.cpuUs / plain[r]!.cpuUs - 1))} | ${spread(measures.map((m, r) => m.latencyUs / plain[r]!.latencyUs - 1))}`;
      console.log(`  ${`${scenario}/${side}`.padEnd(20)} ${cpu.toFixed(2).padStart(10)} ${latency.toFixed(1).padStart(10)}${paired}`);
    }
  }
  const perSet = (scenario: string, side: string): string =>
    Array.from({ length: SETS }, (_, set) => {
      const rounds = (ROUNDS / SETS) * set;
      const plain = results.get(`${scenario}/plain`)!.slice(rounds, rounds + ROUNDS / SETS);
      return pct(quantile(results.get(`${scenario}/${side}`)!.slice(rounds, rounds + ROUNDS / SETS).map((m, r) => m.cpuUs / plain[r]!.cpuUs - 1), 0.5));
    }).join(' ');
  for (const scenario of ['cached', 'origin']) {
    console.log(`  ${scenario}: CPU per request against plain, median of each set of processes: plain again ${perSet(scenario, 'plain again')}; metrics ${perSet(scenario, 'metrics')}`);
  }
  // The plugin's own CPU per call, measured without HTTP, against the CPU of a request: the share
  // the plugin would take if nothing else changed, steadier than the direct comparison on a busy machine.
  const median = (key: string): number => quantile(results.get(key)!.map((m) => m.cpuUs), 0.5);
  const perCall = median('call/metrics') - median('call/plain');
  console.log(
    `  the plugin's CPU per call (call/metrics − call/plain): ${perCall.toFixed(2)} µs = ${pct(perCall / median('cached/plain'))} of a cached request's CPU, ${pct(perCall / median('origin/plain'))} of an origin request's`,
  );
  console.log(`  (requests per side and round: cached ${CACHED_REQUESTS}, origin ${ORIGIN_REQUESTS}, ${CONCURRENCY} in flight; call = a cached hereNow() alone, ${CALLS.toLocaleString('en-US')} calls a round, both processes at once: µs per call)`);

  await seeder.close();
  emulator.process.disconnect();
}

if (process.env.BENCH_ROLE) await child(process.env.BENCH_ROLE);
else await main();
