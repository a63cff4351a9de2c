/**
 * Cost of the metrics plugin on the cheapest call there is: a cached here-now (every call an L1
 * hit in memoryCache, memory transport behind it).
 *
 * Each comparison runs in its own child process: a plain client, a second plain client (the noise
 * floor) and the contender, side by side in interleaved rounds whose order rotates. Keeping each
 * contender to its own process means no other contender's code shapes the JIT's view of the
 * shared call path (a service runs one client configuration, not five), and several processes per
 * comparison average out a single process's luck (heap layout, JIT timing). Reported: the median
 * over all paired rounds of the contender's slowdown against the plain client of the same round,
 * and the median ops/s.
 *
 *   plain (again)    a second plain client: the noise floor of this comparison
 *   empty listener   a no-op callEnd listener: core's own cost of timing a call and emitting its end
 *   metrics          prometheusMetrics() as shipped
 *   prom-client      the same figures recorded through prom-client's own bound children
 *                    (histogram.labels(...).observe, counter.labels(...).inc): the design not taken
 *
 * Run: pnpm --filter @presence/metrics-prometheus bench
 * (PROCESSES=3 per comparison, ROUNDS=9 per process, CALLS=100000 per round by default)
 */
import { cpus, loadavg } from 'node:os';
import { createPresence, memoryCache, type PresenceClient, type Plugin } from '@presence/core';
import { createMemoryTransport } from '@presence/core/testing';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DEFAULT_DURATION_BUCKETS, OPERATIONS, OUTCOMES, prometheusMetrics } from '@presence/metrics-prometheus';

const PROCESSES = Number(process.env.PROCESSES ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const CALLS = Number(process.env.CALLS ?? 100_000);

/** The straightforward design, for comparison: prom-client metrics with prebound label children. */
function promClientChildren(registry: Registry): Plugin {
  const duration = new Histogram({ name: 'd_seconds', help: 'd', labelNames: ['operation', 'outcome'], buckets: [...DEFAULT_DURATION_BUCKETS], registers: [registry] });
  const total = new Counter({ name: 'o_total', help: 'o', labelNames: ['operation', 'outcome'], registers: [registry] });
  const lookups = new Counter({ name: 'c_total', help: 'c', labelNames: ['operation', 'result'], registers: [registry] });
  const inflight = new Gauge({ name: 'i', help: 'i', labelNames: ['operation'], registers: [registry] });
  // Children bound once per label combination, looked up without building a key per call.
  const ends = Object.fromEntries(
    OPERATIONS.map((op) => [op, Object.fromEntries(OUTCOMES.map((outcome) => [outcome, { h: duration.labels(op, outcome), c: total.labels(op, outcome) }]))]),
  );
  const starts = Object.fromEntries(OPERATIONS.map((op) => [op, inflight.labels(op)]));
  const hits = Object.fromEntries(OPERATIONS.map((op) => [op, Object.fromEntries(['hit_l1', 'miss', 'coalesced'].map((r) => [r, lookups.labels(op, r)]))]));
  return {
    name: 'promClientChildren',
    apply(stack) {
      const { events } = stack.context;
      events.on('callStart', (e) => starts[e.operation]!.inc());
      events.on('callEnd', (e) => {
        starts[e.operation]!.dec();
        const end = ends[e.operation]![e.outcome]!;
        end.h.observe(e.durationMs / 1000);
        end.c.inc();
      });
      events.on('cache', (e) => hits[e.operation]?.[e.result]?.inc());
    },
  };
}

/** A listener that does nothing: what core's timing and emission alone cost once anyone listens. */
const emptyListener: Plugin = {
  name: 'emptyListener',
  apply(stack) {
    stack.context.events.on('callEnd', () => {});
  },
};

function makeClient(plugins: Plugin[]): PresenceClient {
  const transport = createMemoryTransport({ respond: () => ({ body: { status: 200, message: 'OK', service: 'Presence', occupancy: 2, uuids: ['a', 'b'] } }) });
  return createPresence({ subscribeKey: 'sub-c-bench', userId: 'bench', transport, plugins: [memoryCache({ ttlMs: 3_600_000 }), ...plugins] });
}

async function run(client: PresenceClient, calls: number): Promise<number> {
  const input = { channels: ['lobby'] };
  const started = performance.now();
  for (let i = 0; i < calls; i++) await client.hereNow(input);
  return calls / ((performance.now() - started) / 1000);
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low]! + (sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!) * (at - low);
};
const median = (values: number[]): number => quantile(values, 0.5);

const CONTENDERS: Record<string, () => Plugin[]> = {
  'plain (again)': () => [],
  'empty listener': () => [emptyListener],
  metrics: () => [prometheusMetrics()],
  'prom-client': () => [promClientChildren(new Registry())],
};

interface GroupResult {
  plain: number[];
  again: number[];
  contender: number[];
  counted?: number;
}

if (process.env.BENCH_CONTENDER) {
  // A child: plain, plain again and one contender, side by side in this process.
  const name = process.env.BENCH_CONTENDER;
  const plugins = CONTENDERS[name]!();
  const clients = { plain: makeClient([]), again: makeClient([]), contender: makeClient(plugins) };
  const sides = Object.keys(clients) as Array<keyof typeof clients>;
  for (const side of sides) await run(clients[side], 50_000); // warm: fill the cache, let the JIT settle
  const result: GroupResult = { plain: [], again: [], contender: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < sides.length; i++) {
      const side = sides[(round + i) % sides.length]!;
      result[side].push(await run(clients[side], CALLS));
    }
  }
  const metrics = plugins.find((plugin) => plugin.name === 'prometheusMetrics') as ReturnType<typeof prometheusMetrics> | undefined;
  const total = (await metrics?.registry.getMetricsAsJSON())?.find((m) => m.name === 'presence_operations_total');
  result.counted = total?.values.reduce((n, v) => n + v.value, 0);
  await Promise.all(Object.values(clients).map((client) => client.close()));
  process.send!(result);
} else {
  const { fork } = await import('node:child_process');
  const names = Object.keys(CONTENDERS).filter((name) => name !== 'plain (again)');
  const measure = (name: string): Promise<GroupResult> =>
    new Promise((resolve, reject) => {
      const child = fork(process.argv[1]!, { env: { ...process.env, BENCH_CONTENDER: name }, execArgv: process.execArgv });
      child.once('message', (reply) => resolve(reply as GroupResult));
      child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`the "${name}" comparison exited with ${code}`))));
    });

  const slowdowns = new Map<string, number[]>([['plain (again)', []], ...names.map((name): [string, number[]] => [name, []])]);
  const speeds = new Map<string, number[]>([['plain', []], ...[...slowdowns.keys()].map((name): [string, number[]] => [name, []])]);
  let counted = 0;
  for (let p = 0; p < PROCESSES; p++) {
    // One process at a time (the machine has two cores), the comparisons in rotating order.
    for (let i = 0; i < names.length; i++) {
      const name = names[(p + i) % names.length]!;
      const group = await measure(name);
      group.plain.forEach((plain, round) => {
        slowdowns.get(name)!.push(1 - group.contender[round]! / plain);
        slowdowns.get('plain (again)')!.push(1 - group.again[round]! / plain);
      });
      speeds.get('plain')!.push(...group.plain);
      speeds.get('plain (again)')!.push(...group.again);
      speeds.get(name)!.push(...group.contender);
      if (name === 'metrics') counted += group.counted ?? 0;
    }
  }

  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(10);
  const pct = (n: number): string => `${(n * 100).toFixed(1).padStart(5)}%`;
  console.log(`cached hereNow (L1 hit): ${PROCESSES} processes per comparison x ${ROUNDS} rounds x ${CALLS} calls; node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0]!.toFixed(2)}`);
  console.log(`  ${'contender'.padEnd(15)} ${'median'.padStart(10)}        slowdown vs plain of the same round: median (quartiles)`);
  for (const [name, ops] of speeds) {
    const paired = slowdowns.get(name);
    const spread = paired ? `  ${pct(median(paired))} (${pct(quantile(paired, 0.25))} to ${pct(quantile(paired, 0.75))})` : '';
    console.log(`  ${name.padEnd(15)} ${fmt(median(ops))} ops/s${spread}`);
  }
  console.log(`  (the metrics clients counted ${counted.toLocaleString('en-US')} calls: warm-up + ${ROUNDS} x ${CALLS} per process)`);
}
