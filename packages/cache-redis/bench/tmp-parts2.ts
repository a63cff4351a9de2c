import { hereNow, readEnvelope, deepFreeze, createPresence } from '@presence/core';
import { hereNowTransport } from '../test/upstream.js';
const N = 100_000;
const bench = async (name: string, fn: () => unknown) => { for (let i = 0; i < 5000; i++) fn(); const t = performance.now(); for (let i = 0; i < N; i++) fn(); return `${name} ${((performance.now() - t) / N * 1000).toFixed(2)}`; };
const client = createPresence({ subscribeKey: 's', userId: 'u', transport: hereNowTransport() });
const config = client.config as any; const params = hereNow.prepare({ channels: ['x'] }, config);
const body = JSON.stringify({ status: 200, message: 'OK', occupancy: 20, uuids: Array.from({ length: 20 }, (_, i) => `user-${i}`), service: 'Presence' });
const env = readEnvelope({ status: 200, headers: { 'content-type': 'application/json' }, body }, 'hereNow') as any;
const parsed = hereNow.parse(env, params, config);
for (let r = 0; r < 3; r++) {
  const out = [];
  out.push(await bench('JSON.parse', () => JSON.parse(body)));
  out.push(await bench('readEnvelope', () => readEnvelope({ status: 200, headers: { 'content-type': 'application/json' }, body }, 'hereNow')));
  out.push(await bench('parse', () => hereNow.parse(env, params, config)));
  out.push(await bench('parse+freeze', () => deepFreeze(hereNow.parse(env, params, config))));
  console.log(out.join(' | '));
}
