// pnpm bench: hereNow through the full client (httpTransport + retry() + signing) against the
// emulator in a separate process, side by side with a raw node:http keep-alive GET of the same URL.
// Rounds are interleaved so both sides see the same machine noise. Not a test: it only prints.
import { fork } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createPresence, hereNow, requestTarget, type PresenceRequest } from '@presence/core';
import { httpTransport, retry } from '@presence/transport-http';

const SECRET_KEY = 'bench-secret';
const PUBLISH_KEY = 'pub-c-bench';
const SUBSCRIBE_KEY = 'sub-c-bench';
const USERS = Number(process.env.BENCH_USERS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const MAX_SOCKETS = 50;

const child = fork(fileURLToPath(new URL('./emulator-process.ts', import.meta.url)), {
  env: { ...process.env, BENCH_SECRET_KEY: SECRET_KEY, BENCH_PUBLISH_KEY: PUBLISH_KEY },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const origin = await new Promise<string>((resolve, reject) => {
  child.once('message', (message) => resolve((message as { origin: string }).origin));
  child.once('exit', (code) => reject(new Error(`the emulator process exited (${code}) before it started`)));
});

const transport = httpTransport({ origin, maxSockets: MAX_SOCKETS });
const client = createPresence({
  subscribeKey: SUBSCRIBE_KEY,
  publishKey: PUBLISH_KEY,
  secretKey: SECRET_KEY,
  userId: 'bench',
  transport,
  plugins: [retry()],
});

// Seed: USERS users in the channel, each with a small state.
for (let i = 0; i < USERS; i++) {
  await client.heartbeat({ channels: ['lobby'], heartbeat: 300, state: { lobby: { n: i, name: `user ${i}` } }, userId: `user-${i}` });
}
const input = { channels: ['lobby'], includeState: true };
const check = await client.hereNow(input);
if (check.totalOccupancy !== USERS) throw new Error(`seeding failed: ${check.totalOccupancy} users in lobby`);

// The same URL the client sends, captured once (signed, so the emulator accepts it) for the raw side.
let captured: PresenceRequest | undefined;
client.stack.add((next) => (call) => {
  captured = call.request;
  return next(call);
}, { name: 'capture', step: 'finalize', priority: -200 });
await client.send(hereNow, input);
client.stack.remove('capture');
const rawPath = requestTarget(captured!);
const url = new URL(origin);
const rawAgent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, scheduling: 'lifo' });
const rawOptions = { hostname: url.hostname, port: url.port, path: rawPath, agent: rawAgent, headers: { 'accept-encoding': 'gzip, deflate' } };

/** What a hand-written client does at least: GET, read the body, parse the JSON. */
function rawGet(): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(rawOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`raw GET answered ${res.statusCode}`));
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

const viaClient = (): Promise<unknown> => client.hereNow(input);
// For attribution only: the transport alone, sending the captured signed request (no core, no signing).
const transportContext = { signal: new AbortController().signal, deadline: Number.MAX_SAFE_INTEGER, attempt: 1 };
setMaxListeners(0, transportContext.signal);
const viaTransport = async (): Promise<unknown> => JSON.parse((await transport.send(captured!, transportContext)).body);

async function round(run: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next++ < REQUESTS) await run();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return REQUESTS / ((performance.now() - started) / 1000);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const sides = { client: viaClient, raw: rawGet, transport: viaTransport };
for (const run of Object.values(sides)) await round(run); // warm-up: JIT, sockets
const results = { client: [] as number[], raw: [] as number[], transport: [] as number[] };
for (let i = 0; i < ROUNDS; i++) {
  // Alternate which side goes first, so neither always gets the warmer machine.
  const order = i % 2 === 0 ? (['client', 'raw', 'transport'] as const) : (['raw', 'client', 'transport'] as const);
  for (const side of order) results[side].push(await round(sides[side]));
}

const fmt = (n: number) => n.toFixed(0).padStart(7);
const ratios = results.client.map((c, i) => c / results.raw[i]!);
console.log(`hereNow, ${USERS} users with state, ${CONCURRENCY} in flight, ${REQUESTS} requests x ${ROUNDS} rounds, maxSockets ${MAX_SOCKETS}, server latency ${process.env.BENCH_LATENCY_MS ?? 0} ms`);
console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${new Date().toISOString()}`);
for (let i = 0; i < ROUNDS; i++) console.log(`round ${String(i + 1).padStart(2)}: client ${fmt(results.client[i]!)} req/s   raw ${fmt(results.raw[i]!)} req/s   ratio ${ratios[i]!.toFixed(3)}`);
// The median of per-round ratios: each pair ran back to back, so slow drifts of a shared machine cancel out.
console.log(`median:   client ${fmt(median(results.client))} req/s   raw ${fmt(median(results.raw))} req/s   ratio ${median(ratios).toFixed(3)} (target >= 0.9)`);
const transportRatios = results.transport.map((t, i) => t / results.raw[i]!);
console.log(`attribution: transport.send alone (same signed URL, no core) ${fmt(median(results.transport))} req/s   ratio to raw ${median(transportRatios).toFixed(3)}`);

await client.close();
rawAgent.destroy();
child.send('close');
await new Promise((resolve) => child.once('exit', resolve));
