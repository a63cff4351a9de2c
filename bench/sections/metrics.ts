// What prometheusMetrics() costs on the cheapest call there is: a cached here-now (memoryCache hit).
// A plain client, a second plain client (the noise floor) and a client with metrics, interleaved.
import { createPresence, memoryCache, type Plugin, type PresenceClient } from '@presence/core';
import { createMemoryTransport } from '@presence/core/testing';
import { prometheusMetrics } from '@presence/metrics-prometheus';
import { ROUNDS, report } from '../lib/section.js';
import { interleave, pairedRow } from '../lib/stats.js';

// Short rounds, three times as many: a cached call takes microseconds, and on a shared machine many
// short paired rounds give a steadier median than a few long ones.
const CALLS = 30_000;
const METRIC_ROUNDS = ROUNDS * 3;
const section = 'metrics overhead (cached here-now, 1 in flight)';
const transport = createMemoryTransport({ respond: () => ({ body: { status: 200, message: 'OK', service: 'Presence', occupancy: 2, uuids: ['a', 'b'] } }) });
const make = (plugins: Plugin[]): PresenceClient => createPresence({ subscribeKey: 'sub-c-bench', userId: 'bench', transport, plugins: [memoryCache({ ttlMs: 3_600_000 }), ...plugins] });
const metrics = prometheusMetrics();
const clients = { plain: make([]), again: make([]), metrics: make([metrics]) };
const input = { channels: ['lobby'] };
const run = (client: PresenceClient) => async (): Promise<number> => {
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) await client.hereNow(input);
  return CALLS / ((performance.now() - started) / 1000);
};
for (const client of Object.values(clients)) await run(client)();
const results = await interleave({ plain: run(clients.plain), again: run(clients.again), metrics: run(clients.metrics) }, METRIC_ROUNDS);
const counted = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'presence_operations_total')?.values.reduce((n, v) => n + v.value, 0);
if (counted !== CALLS * (METRIC_ROUNDS + 1)) throw new Error(`the metrics counted ${counted} calls, not ${CALLS * (METRIC_ROUNDS + 1)}`);
await Promise.all(Object.values(clients).map((client) => client.close()));
report([
  pairedRow({ section, name: 'client + prometheusMetrics() / plain client', unit: 'ops/s', ours: results.metrics, baseline: results.plain, note: '1 − ratio is the cost' }),
  pairedRow({ section, name: 'plain client / plain client again (noise floor)', unit: 'ops/s', ours: results.again, baseline: results.plain }),
]);
