import { createPresence, hereNow, cacheKeyOf, readEnvelope, deepFreeze } from '@presence/core';
import { redisCache } from '@presence/cache-redis';
import { hereNowTransport } from '../test/upstream.js';
import { EventEmitter } from 'node:events';
const store = new Map<string, string>();
const fake: any = Object.assign(new EventEmitter(), {
  status: 'ready', options: {},
  get: (k: string) => Promise.resolve(store.get(k) ?? null),
  eval: async (script: string, n: number, ...args: any[]) => { if (script.includes("'SET', KEYS[1], ARGV[1]")) { store.set(args[0], args[n]); return 1; } if (script.includes('SADD')) return 1; if (script.includes('lock') || script.includes('NX')) return [2]; return 0; },
  set: async () => 'OK', publish: async () => 1, unlink: async () => 1,
  duplicate() { return fake; }, subscribe: async () => 1, unsubscribe: async () => 1, disconnect() {},
});
const transport = hereNowTransport({ uuids: () => Array.from({ length: 20 }, (_, i) => `user-${i}`) });
const cache = redisCache({ redis: fake, ttlMs: 3_600_000, l1: false, commandTimeoutMs: 1000, subscriber: false });
const client = createPresence({ subscribeKey: 'sub-c-bench', userId: 'bench', transport, plugins: [cache] });
const input = { channels: ['l2-room'] };
await client.hereNow(input); await cache.flush();
console.log('stored', [...store.keys()].length, transport.requests.length);
const l1c = createPresence({ subscribeKey: 'sub-c-bench', userId: 'bench', transport, plugins: [redisCache({ redis: fake, ttlMs: 3_600_000, subscriber: false, l1: { ttlMs: 3_600_000 } })] });
await l1c.hereNow(input);
const N = 100_000;
for (let r = 0; r < 3; r++) {
  let t = performance.now(); for (let i = 0; i < N; i++) await client.hereNow(input); const a = (performance.now() - t) / N * 1000;
  t = performance.now(); for (let i = 0; i < N; i++) await l1c.hereNow(input); const b = (performance.now() - t) / N * 1000;
  t = performance.now(); for (let i = 0; i < N; i++) await fake.get('x'); const c = (performance.now() - t) / N * 1000;
  const value = [...store.values()][0]!; const body = value.slice(value.indexOf('\n') + 1);
  const config = client.config as any; const params = hereNow.prepare(input, config);
  t = performance.now(); for (let i = 0; i < N; i++) { const env = readEnvelope({ status: 200, headers: { 'content-type': 'application/json' }, body }, 'hereNow'); deepFreeze(hereNow.parse(env as any, params, config)); } const d = (performance.now() - t) / N * 1000;
  t = performance.now(); for (let i = 0; i < N; i++) cacheKeyOf(hereNow, hereNow.prepare(input, config), config); const e = (performance.now() - t) / N * 1000;
  console.log(`L2 hit (fake redis) ${a.toFixed(2)} µs | L1 hit whole call ${b.toFixed(2)} µs | fake get ${c.toFixed(2)} | readEnvelope+parse+freeze ${d.toFixed(2)} | prepare+cacheKeyOf ${e.toFixed(2)}`);
}
