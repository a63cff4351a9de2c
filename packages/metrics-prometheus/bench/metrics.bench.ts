/**
 * Cost of the metrics plugin on the cheapest call there is: a cached here-now (every call an L1
 * hit in memoryCache, memory transport behind it). Clients run side by side in one process, in
 * interleaved rounds whose order rotates. Reported: each contender's median ops/s, and the median
 * over rounds of its slowdown against the plain client of the same round (pairing cancels the
 * drift of a shared, noisy machine better than comparing medians):
 *
 *   plain            no metrics
 *   plain (again)    a second identical client: the noise floor of this comparison
 *   empty listeners  no-op listeners on callStart, callEnd and cache: core's own cost of emitting
 *   metrics          prometheusMetrics() as shipped
 *   prom-client      the same events recorded through prom-client's own bound children
 *                    (histogram.labels(...).observe, counter.labels(...).inc): the design not taken
 *
 * Run: pnpm --filter @presence/metrics-prometheus bench   (ROUNDS=11 CALLS=100000 by default)
 */
import { cpus, loadavg } from 'node:os';
import { createPresence, memoryCache, type PresenceClient, type Plugin } from '@presence/core';
import { createMemoryTransport } from '@presence/core/testing';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DEFAULT_DURATION_BUCKETS, OPERATIONS, OUTCOMES, prometheusMetrics } from '@presence/metrics-prometheus';

const ROUNDS = Number(process.env.ROUNDS ?? 11);
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

/** Listeners that do nothing: what core's event emission alone costs once anyone listens. */
const emptyListeners: Plugin = {
  name: 'emptyListeners',
  apply(stack) {
    const { events } = stack.context;
    events.on('callStart', () => {});
    events.on('callEnd', () => {});
    events.on('cache', () => {});
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

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const metricsRegistry = new Registry();
const contenders = [
  { name: 'plain', client: makeClient([]) },
  { name: 'plain (again)', client: makeClient([]) },
  { name: 'empty listeners', client: makeClient([emptyListeners]) },
  { name: 'metrics', client: makeClient([prometheusMetrics({ registry: metricsRegistry })]) },
  { name: 'prom-client', client: makeClient([promClientChildren(new Registry())]) },
];
const results = new Map<string, number[]>(contenders.map((c) => [c.name, []]));

for (const { client } of contenders) await run(client, Math.min(CALLS, 50_000)); // warm: fill the cache, let the JIT settle
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round so no contender always runs first (or last, after a GC-heavy one).
  for (let i = 0; i < contenders.length; i++) {
    const { name, client } = contenders[(round + i) % contenders.length]!;
    results.get(name)!.push(await run(client, CALLS));
  }
}

const plainRuns = results.get('plain')!;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(10);
const pct = (n: number): string => `${(n * 100).toFixed(1).padStart(5)}%`;
console.log(`cached hereNow (L1 hit), ${ROUNDS} rounds x ${CALLS} calls; node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0]!.toFixed(2)}`);
console.log(`  ${'contender'.padEnd(15)} ${'median'.padStart(10)}        slowdown vs plain: median of paired rounds; of medians`);
for (const [name, runs] of results) {
  const ops = median(runs);
  const paired = name === 'plain' ? '' : `  ${pct(median(runs.map((v, i) => 1 - v / plainRuns[i]!)))}; ${pct(1 - ops / median(plainRuns))}`;
  console.log(`  ${name.padEnd(15)} ${fmt(ops)} ops/s${paired}`);
}
const total = (await metricsRegistry.getMetricsAsJSON()).find((m) => m.name === 'presence_operations_total')!;
console.log(`  (metrics counted ${total.values.reduce((n, v) => n + v.value, 0).toLocaleString('en-US')} calls)`);
await Promise.all(contenders.map(({ client }) => client.close()));
