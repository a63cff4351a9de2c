import { createPresence } from '@presence/core';
import { redisCache } from '@presence/cache-redis';
import { connect, startRedisServer } from '@presence/cache-redis/testing';
import { hereNowTransport } from '../test/upstream.js';
const server = await startRedisServer();
const redis = await connect(server.port);
const transport = hereNowTransport({ uuids: () => Array.from({ length: 20 }, (_, i) => `user-${i}`) });
const cache = redisCache({ redis, ttlMs: 3_600_000, l1: false, commandTimeoutMs: 1000 });
const client = createPresence({ subscribeKey: 'sub-c-bench', userId: 'bench', transport, plugins: [cache] });
const input = { channels: ['l2-room'] };
await client.hereNow(input);
await cache.flush();
await redis.config('RESETSTAT');
for (let i = 0; i < 1000; i++) await client.hereNow(input);
console.log((await redis.info('commandstats')).split('\n').filter((l) => l.startsWith('cmdstat')).join('\n'));
for (let round = 0; round < 3; round++) {
let t = performance.now();
for (let i = 0; i < 10000; i++) await client.hereNow(input);
const a = (performance.now() - t) / 10;
t = performance.now();
for (let i = 0; i < 10000; i++) await redis.get('x');
const b = (performance.now() - t) / 10;
console.log('L2 hit µs', a.toFixed(1), 'raw µs', b.toFixed(1));
}
await client.close(); redis.disconnect(); await server.stop();
