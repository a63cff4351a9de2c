// Origin-path here-now: the client against the same work by hand, a raw node:http GET and the
// official pubnub SDK, all against one emulator in another process, in interleaved rounds.
// BENCH_SIGNED=1 signs every request (the emulator then checks every signature); one process per setting.
import { startEmulatorProcess } from '../lib/emulator.js';
import { BENCH_SECRET_KEY, originSides, PUBLISH_KEY } from '../lib/origin-sides.js';
import { ROUNDS, report } from '../lib/section.js';
import { interleave, pairedRow, throughput, type Row } from '../lib/stats.js';

const signed = process.env.BENCH_SIGNED === '1';
/** Requests per side per round, sized so that one side's round takes a fraction of a second. */
const SETTINGS = [
  { inFlight: 32, latencyMs: 0, requests: 3000 },
  { inFlight: 1, latencyMs: 0, requests: 1000 },
  { inFlight: 32, latencyMs: 5, requests: 2000 },
  { inFlight: 1, latencyMs: 5, requests: 60 },
] as const;

const emulator = await startEmulatorProcess(signed ? { secretKey: BENCH_SECRET_KEY, publishKey: PUBLISH_KEY } : {});
const origin = await originSides(emulator.origin, signed);
const sides = origin.sides;

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

await origin.close();
await emulator.close();
report(rows);
