/**
 * Subscribe benchmark (not a test): 1,000 subscribers long-poll `<channel>-pnpres` on 100 channels (10 each)
 * while 200 joins/leaves per second happen over HTTP. Measures event delivery latency (from sending the
 * heartbeat or leave that causes an event to a subscriber having the answer that carries it), beside the
 * baseline of that causing request's own round trip in the same round, and the emulator's RSS (it runs in a
 * child process). Bounded: ROUNDS rounds of ROUND_MS each. Run: `pnpm --filter @presence/emulator bench:subscribe`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { performance } from 'node:perf_hooks';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1_000);
const CHANNELS = 100;
const CHANGES_PER_SEC = 200;
const PREFILL_PER_CHANNEL = 5;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const ROUND_MS = Number(process.env.ROUND_MS ?? 5_000);
const DRAIN_MS = 3_000;
const SUB = 'bench';

interface Sample {
  rss: number;
  peakRss: number;
  /** CPU time the emulator process has used (user + system). */
  cpuMs: number;
  /** Live JS heap after a full GC. */
  heapUsed: number;
  stats: { subscribe: { openLongPolls: number; eventsDelivered: number }; requests: { byOperation: Record<string, number> } };
}

const child: ChildProcess = fork(new URL('./emulator-process.ts', import.meta.url), [], {
  // PROFILE=1 writes a CPU profile of the emulator process to <tmpdir>/presence-emulator-profiles.
  execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env.PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${joinPath(tmpdir(), 'presence-emulator-profiles')}`] : [])],
});
const port = await new Promise<number>((resolve, reject) => {
  child.once('message', (m) => resolve((m as { port: number }).port));
  child.once('error', reject);
  child.once('exit', (code) => reject(new Error(`emulator process exited with ${code}`)));
});
const sample = (): Promise<Sample> =>
  new Promise((resolve) => {
    child.once('message', (m) => resolve(m as Sample));
    child.send('sample');
  });

const pollAgent = new Agent({ keepAlive: true, maxSockets: Infinity });
const driverAgent = new Agent({ keepAlive: true, maxSockets: 32 });

function get(path: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: 320_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(text);
        else reject(new Error(`HTTP ${res.statusCode} for ${path}: ${text}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Deterministic PRNG (mulberry32) so runs pick the same channels. */
let seed = 42;
const random = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const channel = (i: number): string => `ch-${i}`;
/** `${c}|${action}|${uuid}` -> when the request causing that event was sent. */
const sentAt = new Map<string, number>();
let latencies: number[] = [];
/** From the event's own `precise_timestamp` (the emulator's Date.now() when it made the event) to receipt. */
let sinceEvent: number[] = [];
let delivered = 0;
let stopping = false;

async function subscriber(i: number): Promise<void> {
  const name = `${channel(i % CHANNELS)}-pnpres`;
  const base = `/v2/subscribe/${SUB}/${name}/0?uuid=watcher-${i}`;
  let tt = (JSON.parse(await get(base, pollAgent)) as { t: { t: string } }).t.t;
  while (!stopping) {
    let text: string;
    try {
      text = await get(`${base}&tt=${tt}&tr=1`, pollAgent);
    } catch (error) {
      if (stopping) return;
      throw error;
    }
    const now = performance.now();
    const receivedAt = Date.now();
    const answer = JSON.parse(text) as { t: { t: string }; m: Array<{ c: string; d: { action: string; uuid: string; precise_timestamp: number } }> };
    tt = answer.t.t;
    for (const m of answer.m) {
      const at = sentAt.get(`${m.c}|${m.d.action}|${m.d.uuid}`);
      if (at === undefined) continue;
      latencies.push(now - at);
      sinceEvent.push(receivedAt - m.d.precise_timestamp);
      delivered += 1;
    }
  }
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const median = (values: number[]): number => percentile([...values].sort((a, b) => a - b), 50);
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const ms = (n: number): string => `${n.toFixed(2)} ms`;

let nextUser = 0;
const present: Array<{ uuid: string; channel: string }> = [];

async function join(): Promise<number> {
  const uuid = `user-${nextUser++}`;
  const c = channel(Math.floor(random() * CHANNELS));
  present.push({ uuid, channel: c });
  const t = performance.now();
  sentAt.set(`${c}-pnpres|join|${uuid}`, t);
  await get(`/v2/presence/sub-key/${SUB}/channel/${c}/heartbeat?heartbeat=300&uuid=${uuid}`, driverAgent);
  return performance.now() - t;
}

async function leave(): Promise<number> {
  const user = present.shift();
  if (!user) return join();
  const t = performance.now();
  sentAt.set(`${user.channel}-pnpres|leave|${user.uuid}`, t);
  await get(`/v2/presence/sub-key/${SUB}/channel/${user.channel}/leave?uuid=${user.uuid}`, driverAgent);
  return performance.now() - t;
}

const rounds: Array<{ eventP50: number; eventP99: number; heapUsed: number; p50: number; p99: number; rttP50: number; rttP99: number; events: number; delivered: number; expected: number; rss: number; peakRss: number; cpuUsPerEvent: number }> = [];
try {
  // Users present before anyone watches, so each channel has a few members to leave.
  for (let i = 0; i < CHANNELS * PREFILL_PER_CHANNEL; i += 1) {
    const uuid = `user-${nextUser++}`;
    const c = channel(i % CHANNELS);
    present.push({ uuid, channel: c });
    await get(`/v2/presence/sub-key/${SUB}/channel/${c}/heartbeat?heartbeat=300&uuid=${uuid}`, driverAgent);
  }
  const empty = await sample();
  const loops: Array<Promise<void>> = [];
  for (let i = 0; i < SUBSCRIBERS; i += 1) loops.push(subscriber(i));
  const failures: unknown[] = [];
  for (const loop of loops) loop.catch((error: unknown) => failures.push(error));
  for (let i = 0; i < 600; i += 1) {
    if ((await sample()).stats.subscribe.openLongPolls >= SUBSCRIBERS) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const idle = await sample();
  console.log(`emulator RSS ${mb(empty.rss)} with no long-poll, ${mb(idle.rss)} with ${idle.stats.subscribe.openLongPolls} held; load average ${loadavg().map((n) => n.toFixed(1)).join(', ')}`);

  for (let round = 1; round <= ROUNDS; round += 1) {
    latencies = [];
    sinceEvent = [];
    delivered = 0;
    sentAt.clear();
    const cpuBefore = (await sample()).cpuMs;
    const rtts: number[] = [];
    const inFlight: Array<Promise<void>> = [];
    const start = performance.now();
    let issued = 0;
    while (performance.now() - start < ROUND_MS) {
      const due = Math.floor(((performance.now() - start) / 1000) * CHANGES_PER_SEC);
      while (issued < due) {
        const change = issued % 2 === 0 ? join() : leave();
        inFlight.push(change.then((rtt) => void rtts.push(rtt)));
        issued += 1;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(inFlight);
    const expected = issued * (SUBSCRIBERS / CHANNELS);
    const drainStart = performance.now();
    while (delivered < expected && performance.now() - drainStart < DRAIN_MS) await new Promise((r) => setTimeout(r, 20));
    const memory = await sample();
    const sorted = [...latencies].sort((a, b) => a - b);
    const fromEvent = [...sinceEvent].sort((a, b) => a - b);
    rtts.sort((a, b) => a - b);
    const row = {
      eventP50: percentile(fromEvent, 50),
      eventP99: percentile(fromEvent, 99),
      heapUsed: memory.heapUsed,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      rttP50: percentile(rtts, 50),
      rttP99: percentile(rtts, 99),
      events: issued,
      delivered,
      expected,
      rss: memory.rss,
      peakRss: memory.peakRss,
      // Emulator CPU per delivered envelope (answering the poll and taking the next one): a figure the load of
      // other processes on a shared machine inflates far less than latency.
      cpuUsPerEvent: ((memory.cpuMs - cpuBefore) * 1000) / Math.max(1, delivered),
    };
    rounds.push(row);
    console.log(
      `round ${round}: ${issued} changes in ${(ROUND_MS / 1000).toFixed(0)} s (${((issued / ROUND_MS) * 1000).toFixed(0)}/s), ` +
        `delivered ${delivered}/${expected}; event → subscriber p50 ${ms(row.eventP50)} p99 ${ms(row.eventP99)}; ` +
        `request sent → subscriber p50 ${ms(row.p50)} p99 ${ms(row.p99)}; causing request round trip p50 ${ms(row.rttP50)} p99 ${ms(row.rttP99)}; ` +
        `emulator RSS ${mb(row.rss)} (peak ${mb(row.peakRss)}, live heap ${mb(row.heapUsed)}), CPU ${row.cpuUsPerEvent.toFixed(0)} µs per delivered event`,
    );
  }
  if (failures.length > 0) throw failures[0];
  if (rounds.length > 0) printSummary(idle.rss);
} finally {
  stopping = true;
  child.send('close');
  await new Promise((resolve) => child.once('exit', resolve));
  pollAgent.destroy();
  driverAgent.destroy();
}

function printSummary(idleRss: number): void {
  const e50 = rounds.map((r) => r.eventP50);
  const e99 = rounds.map((r) => r.eventP99);
  const p50s = rounds.map((r) => r.p50);
  const p99s = rounds.map((r) => r.p99);
  const rtt50 = rounds.map((r) => r.rttP50);
  const rss = rounds.map((r) => r.peakRss);
  const spread = (values: number[], f: (n: number) => string): string => `${f(Math.min(...values))} – ${f(Math.max(...values))}`;
  console.log(`\n@presence/emulator subscribe benchmark, ${new Date().toISOString().slice(0, 10)}; ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
  console.log(`(${SUBSCRIBERS} subscribers, ${CHANNELS} channels, ${CHANGES_PER_SEC} changes/s; clients, driver and emulator share the machine)`);
  console.log(`  event → subscriber p50          median ${ms(median(e50))}  (rounds ${spread(e50, ms)}; ms resolution)`);
  console.log(`  event → subscriber p99          median ${ms(median(e99))}  (rounds ${spread(e99, ms)})`);
  console.log(`  request sent → subscriber p50   median ${ms(median(p50s))}  (rounds ${spread(p50s, ms)})`);
  console.log(`  request sent → subscriber p99   median ${ms(median(p99s))}  (rounds ${spread(p99s, ms)})`);
  console.log(`  baseline: causing request p50   median ${ms(median(rtt50))}  (one heartbeat/leave round trip, same rounds)`);
  console.log(`  request sent → subscriber / causing request, p50   ${(median(p50s) / median(rtt50)).toFixed(2)}x`);
  console.log(`  emulator peak RSS      median ${mb(median(rss))}  (rounds ${spread(rss, mb)}; idle with ${SUBSCRIBERS} polls held: ${mb(idleRss)})`);
  const heap = rounds.map((r) => r.heapUsed);
  console.log(`  emulator live heap after GC     rounds ${heap.map(mb).join(', ')}`);
  const cpu = rounds.map((r) => r.cpuUsPerEvent);
  console.log(`  emulator CPU per delivered event   median ${median(cpu).toFixed(0)} µs  (rounds ${spread(cpu, (n) => `${n.toFixed(0)} µs`)})`);
  console.log(`  client process RSS     ${mb(process.memoryUsage().rss)}`);
  console.log(`  load average at end    ${loadavg().map((n) => n.toFixed(1)).join(', ')}`);
}
