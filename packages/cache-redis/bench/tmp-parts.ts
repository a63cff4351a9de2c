import { createSingleFlight, hereNow, readEnvelope, deepFreeze, createPresence } from '@presence/core';
import { createCommandGuard } from '../src/command-guard.js';
import { hereNowTransport } from '../test/upstream.js';
const fake: any = { status: 'ready', get: (k: string) => Promise.resolve('v') };
const guard = createCommandGuard({ redis: fake, commandTimeoutMs: 50, circuitBreaker: { failureThreshold: 5, resetMs: 5000 } });
const flights = createSingleFlight<number>();
const N = 200_000;
const bench = async (name: string, fn: () => unknown) => { for (let i = 0; i < 5000; i++) await fn(); const t = performance.now(); for (let i = 0; i < N; i++) await fn(); return `${name} ${((performance.now() - t) / N * 1000).toFixed(2)}`; };
const client = createPresence({ subscribeKey: 's', userId: 'u', transport: hereNowTransport() });
const config = client.config as any; const params = hereNow.prepare({ channels: ['x'] }, config);
const body = JSON.stringify({ status: 200, message: 'OK', occupancy: 20, uuids: Array.from({ length: 20 }, (_, i) => `user-${i}`), service: 'Presence' });
for (let r = 0; r < 3; r++) {
  const out = [];
  out.push(await bench('fake get', () => fake.get('k')));
  out.push(await bench('guard.run', () => guard.run((c) => c.get('k'))));
  out.push(await bench('flight', () => flights.run('k', { timeoutMs: 1000, operation: 'hereNow' }, async () => 1).promise));
  out.push(await bench('decode', () => deepFreeze(hereNow.parse(readEnvelope({ status: 200, headers: { 'content-type': 'application/json' }, body }, 'hereNow') as any, params, config))));
  out.push(await bench('JSON.parse', () => JSON.parse(body)));
  console.log(out.join(' | '));
}
