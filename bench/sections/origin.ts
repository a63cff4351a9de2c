// Origin-path here-now: the client against the same work by hand, a raw node:http GET and the
// official pubnub SDK, all against one emulator in another process, in interleaved rounds.
// BENCH_SIGNED=1 signs every request (the emulator then checks every signature); one process per setting.
import http from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import { createPresence, requestTarget, type PresenceRequest } from '@presence/core';
import { httpTransport, retry } from '@presence/transport-http';
import PubNub from 'pubnub';
import { startEmulatorProcess } from '../lib/emulator.js';
import { handClient } from '../lib/hand-client.js';
import { ROUNDS, report } from '../lib/section.js';
import { interleave, pairedRow, throughput, type Row } from '../lib/stats.js';

const signed = process.env.BENCH_SIGNED === '1';
const SUBSCRIBE_KEY = 'sub-c-bench';
const PUBLISH_KEY = 'pub-c-bench';
const SECRET_KEY = signed ? 'bench-secret' : undefined;
const USERS = 20;
const MAX_SOCKETS = 50;
const CHANNEL = 'lobby';
/** Requests per side per round, sized so that one side's round takes a fraction of a second. */
const SETTINGS = [
  { inFlight: 32, latencyMs: 0, requests: 3000 },
  { inFlight: 1, latencyMs: 0, requests: 1000 },
  { inFlight: 32, latencyMs: 5, requests: 2000 },
  { inFlight: 1, latencyMs: 5, requests: 60 },
] as const;

const emulator = await startEmulatorProcess(SECRET_KEY ? { secretKey: SECRET_KEY, publishKey: PUBLISH_KEY } : {});
const keys = { subscribeKey: SUBSCRIBE_KEY, publishKey: PUBLISH_KEY, ...(SECRET_KEY ? { secretKey: SECRET_KEY } : {}) };

// Ours, as the README sets it up: keep-alive transport (signing when there is a secret key) and retry().
const client = createPresence({ ...keys, userId: 'bench', transport: httpTransport({ origin: emulator.origin, maxSockets: MAX_SOCKETS }), plugins: [retry()] });
const hand = handClient({ ...keys, origin: emulator.origin, userId: 'bench', sdkName: client.config.sdkName, maxSockets: MAX_SOCKETS });
// Each side's idle sockets close after 4 s, before the emulator's 10 s keep-alive closes them under a
// request: on a busy machine a side can sit idle for seconds while the others run their rounds.
const IDLE_SOCKET_MS = 4000;
const sdk = new PubNub({ ...keys, origin: new URL(emulator.origin).host, ssl: false, userId: 'bench', keepAlive: true, keepAliveSettings: { timeout: IDLE_SOCKET_MS }, enableEventEngine: false });

for (let i = 0; i < USERS; i++) {
  await client.heartbeat({ channels: [CHANNEL], heartbeat: 300, state: { [CHANNEL]: { n: i, name: `user ${i}` } }, userId: `user-${i}` });
}
const input = { channels: [CHANNEL], includeState: true };

// Every side gets the same answer (the SDK in its own shape), and the hand client sends the same URL.
const ours = await client.hereNow(input);
if (ours.totalOccupancy !== USERS) throw new Error(`seeding failed: ${ours.totalOccupancy} users in ${CHANNEL}`);
if (!isDeepStrictEqual(await hand.hereNow(CHANNEL, true), ours)) throw new Error('the hand-written client maps the answer differently from the client');
const fromSdk = await sdk.hereNow({ channels: [CHANNEL], includeState: true });
if (fromSdk.totalOccupancy !== USERS) throw new Error(`the SDK saw ${fromSdk.totalOccupancy} users`);

let captured: PresenceRequest | undefined;
client.stack.add((next) => (call) => {
  captured = call.request;
  return next(call);
}, { name: 'capture', step: 'finalize', priority: -200 });
await client.hereNow(input);
client.stack.remove('capture');
// Signed once: the emulator checks the signature, not the timestamp's age, so this one URL serves the raw side all run.
const rawPath = requestTarget(captured!);
const variable = /(requestid|timestamp|signature)=[^&]*/g;
const handPaths: string[] = [];
const spy = http.get;
// The hand client's URL, but for its per-request values, must be the client's.
(http as { get: typeof http.get }).get = ((options: http.RequestOptions, callback: (res: http.IncomingMessage) => void) => {
  handPaths.push(options.path!);
  return spy(options, callback);
}) as typeof http.get;
await hand.hereNow(CHANNEL, true);
(http as { get: typeof http.get }).get = spy;
if (handPaths[0]!.replace(variable, '$1') !== rawPath.replace(variable, '$1')) {
  throw new Error(`the hand-written client sends ${handPaths[0]}, the client ${rawPath}`);
}

const url = new URL(emulator.origin);
const rawAgent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, scheduling: 'lifo', timeout: IDLE_SOCKET_MS });
const rawOptions = { hostname: url.hostname, port: url.port, path: rawPath, agent: rawAgent };
/** The least a client does: GET a fixed URL, read the body, JSON.parse it. */
function rawGet(): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(rawOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))) : reject(new Error(`raw GET answered ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

const sides = {
  client: () => client.hereNow(input),
  hand: () => hand.hereNow(CHANNEL, true),
  raw: rawGet,
  sdk: () => sdk.hereNow({ channels: [CHANNEL], includeState: true }),
};

const rows: Row[] = [];
const section = `origin here-now, ${signed ? 'signed' : 'unsigned'}`;
for (const setting of SETTINGS) {
  await emulator.setLatency(setting.latencyMs);
  // Besides each round's throughput, the CPU time this process spent per request (user + system):
  // on a shared machine it tells the client's own work from time spent waiting for a core.
  const cpu: Record<keyof typeof sides, number[]> = { client: [], hand: [], raw: [], sdk: [] };
  const measure = (side: keyof typeof sides, record = true) => async () => {
    const before = process.cpuUsage();
    const rate = await throughput(sides[side], setting.requests, setting.inFlight);
    const used = process.cpuUsage(before);
    if (record) cpu[side].push((used.user + used.system) / setting.requests);
    return rate;
  };
  // Warm-up: the JIT and the keep-alive pools of every side.
  for (const side of ['client', 'hand', 'raw', 'sdk'] as const) await measure(side, false)();
  const results = await interleave({ client: measure('client'), hand: measure('hand'), raw: measure('raw'), sdk: measure('sdk') }, ROUNDS);
  const where = `${setting.inFlight} in flight, ${setting.latencyMs} ms server latency`;
  const cpuBound = setting.inFlight === 32 && setting.latencyMs === 0;
  rows.push(
    pairedRow({ section, name: `client / same work by hand — ${where}`, unit: 'req/s', ours: results.client, baseline: results.hand, ...(cpuBound ? { goal: '≥ 0.9' } : {}) }),
    pairedRow({ section, name: `client / raw node:http GET — ${where}`, unit: 'req/s', ours: results.client, baseline: results.raw }),
    pairedRow({ section, name: `client / official pubnub SDK — ${where}`, unit: 'req/s', ours: results.client, baseline: results.sdk, ...(cpuBound ? { goal: '≥ 3' } : {}) }),
  );
  if (setting.latencyMs === 0) {
    // Ratio = baseline's CPU per request / the client's: like the throughput rows, above 1 means the client does less.
    const cheaper = (baseline: number[]) => baseline.map((value, i) => value / cpu.client[i]!);
    rows.push(
      pairedRow({ section, name: `client / same work by hand, CPU time per request — ${where}`, unit: 'µs CPU/req', ours: cpu.client, baseline: cpu.hand, ratios: cheaper(cpu.hand), note: 'ratio = baseline µs / client µs' }),
      pairedRow({ section, name: `client / official pubnub SDK, CPU time per request — ${where}`, unit: 'µs CPU/req', ours: cpu.client, baseline: cpu.sdk, ratios: cheaper(cpu.sdk), note: 'ratio = baseline µs / client µs' }),
    );
  }
}
const { signatureFailures } = await emulator.setLatency(0);
if (signatureFailures > 0) throw new Error(`the emulator refused ${signatureFailures} signatures`);

await client.close();
hand.close();
rawAgent.destroy();
sdk.destroy();
await emulator.close();
report(rows);
