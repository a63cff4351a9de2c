/**
 * Emulator benchmark (not a test): fills 10,000 users across 1,000 channels with real HTTP heartbeats,
 * then measures here-now latency on a 1,000-member channel and requests per second with keep-alive
 * concurrency. Loopback only; bounded in request count and time. Run: `pnpm --filter @presence/emulator bench`.
 */
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createEmulator } from '@presence/emulator';

const USERS = 10_000;
const CHANNELS = 1_000;
const BIG = 1_000;
const CONCURRENCY = 32;
const LATENCY_SAMPLES = 1_000;
const RPS_WINDOW_MS = 3_000;
const RPS_MAX_REQUESTS = 200_000;
const SUB = 'bench';

const emulator = await createEmulator();
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function get(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: emulator.port, path, agent }, (res) => {
      let size = 0;
      res.on('data', (chunk: Buffer) => (size += chunk.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(size) : reject(new Error(`HTTP ${res.statusCode} for ${path}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Run `next(i)` for i in [0, total) with CONCURRENCY in flight, stopping early after `maxMs`. */
async function pool(total: number, maxMs: number, next: (i: number) => Promise<unknown>): Promise<{ done: number; ms: number }> {
  let issued = 0;
  let done = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (issued < total && performance.now() - start < maxMs) {
      const i = issued++;
      await next(i);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { done, ms: performance.now() - start };
}

/** Users 0..999 share the big channel ch-0; the other 9,000 spread over ch-1..ch-999. */
const channelOf = (user: number): string => (user < BIG ? 'ch-0' : `ch-${1 + ((user - BIG) % (CHANNELS - 1))}`);

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const fmt = (n: number, digits = 2): string => n.toFixed(digits);

try {
  const fill = await pool(USERS, 120_000, (i) =>
    get(`/v2/presence/sub-key/${SUB}/channel/${channelOf(i)}/heartbeat?heartbeat=300&uuid=user-${i}&state=%7B%7D`),
  );
  const stats = emulator.stats().presence;
  if (stats.occupancy !== USERS || stats.channels !== CHANNELS) throw new Error(`fill incomplete: ${JSON.stringify(stats)}`);

  // Warm up, then sequential samples so each one is a pure round trip.
  const bigPath = `/v2/presence/sub-key/${SUB}/channel/ch-0?limit=1000&uuid=bench`;
  let bodyBytes = 0;
  for (let i = 0; i < 100; i += 1) bodyBytes = await get(bigPath);
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i += 1) {
    const t = performance.now();
    await get(bigPath);
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const statePath = `/v2/presence/sub-key/${SUB}/channel/ch-0?limit=1000&state=1&uuid=bench`;
  const stateSamples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES / 2; i += 1) {
    const t = performance.now();
    await get(statePath);
    stateSamples.push(performance.now() - t);
  }
  stateSamples.sort((a, b) => a - b);

  const smallRps = await pool(RPS_MAX_REQUESTS, RPS_WINDOW_MS, (i) =>
    get(`/v2/presence/sub-key/${SUB}/channel/ch-${1 + (i % (CHANNELS - 1))}?limit=1000&uuid=bench`),
  );
  const bigRps = await pool(RPS_MAX_REQUESTS, RPS_WINDOW_MS, () => get(bigPath));
  const hbRps = await pool(RPS_MAX_REQUESTS, RPS_WINDOW_MS, (i) =>
    get(`/v2/presence/sub-key/${SUB}/channel/${channelOf(i % USERS)}/heartbeat?heartbeat=300&uuid=user-${i % USERS}`),
  );

  const rows: Array<[string, string]> = [
    ['machine', `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`],
    ['fill: 10,000 heartbeats over HTTP', `${fmt(fill.ms, 0)} ms (${fmt((fill.done / fill.ms) * 1000, 0)} req/s, concurrency ${CONCURRENCY})`],
    [`here-now ch-0 (1,000 uuids, ${bodyBytes} B) latency`, `p50 ${fmt(percentile(samples, 50))} ms, p99 ${fmt(percentile(samples, 99))} ms (n=${samples.length}, sequential)`],
    ['here-now ch-0 state=1 latency', `p50 ${fmt(percentile(stateSamples, 50))} ms, p99 ${fmt(percentile(stateSamples, 99))} ms (n=${stateSamples.length})`],
    ['here-now small channels (~9 uuids)', `${fmt((smallRps.done / smallRps.ms) * 1000, 0)} req/s (${smallRps.done} in ${fmt(smallRps.ms, 0)} ms)`],
    ['here-now ch-0 (1,000 uuids)', `${fmt((bigRps.done / bigRps.ms) * 1000, 0)} req/s (${bigRps.done} in ${fmt(bigRps.ms, 0)} ms)`],
    ['heartbeat refresh', `${fmt((hbRps.done / hbRps.ms) * 1000, 0)} req/s (${hbRps.done} in ${fmt(hbRps.ms, 0)} ms)`],
  ];
  console.log(`@presence/emulator benchmark, ${new Date().toISOString().slice(0, 10)} (client and server share the machine)`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(44)} ${v}`);
} finally {
  agent.destroy();
  await emulator.close();
}
