import { createPresence } from '@presence/core';
import { createEmulator, type Emulator } from '@presence/emulator';
import { httpTransport } from '@presence/transport-http';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dumpRedis, signatureSpy } from '../test/helpers.js';
import { connect, startRedisServer, type RedisServer } from './testing.js';
import { redisCache } from './redis-cache.js';

const AUTH_KEY = 'auth-SENTINEL-7f3a9c';
const SECRET_KEY = 'sec-c-SENTINEL-51d2e8';
const PUBLISH_KEY = 'pub-c-demo';
const CHANNEL = 'private-room-SENTINEL';

let server: RedisServer;
let emulator: Emulator;
let redis: Redis;
let monitor: Redis;

beforeAll(async () => {
  [server, emulator] = await Promise.all([startRedisServer(), createEmulator({ secretKey: SECRET_KEY, publishKey: PUBLISH_KEY })]);
  redis = await connect(server.port);
  monitor = await connect(server.port);
});

afterAll(async () => {
  redis?.disconnect();
  monitor?.disconnect();
  await emulator?.close();
  await server?.stop();
});

it('puts no auth key, secret key, signature or channel name in any Redis key, value or bus message', async () => {
  const messages: string[] = [];
  monitor.on('pmessage', (_pattern: string, channel: string, message: string) => messages.push(channel, message));
  await monitor.psubscribe('*');

  // Every signature the transport sent, to look for them in Redis afterwards.
  const { plugin: spy, signatures } = signatureSpy();
  const cache = redisCache({ redis, commandTimeoutMs: 1000 });
  const client = createPresence({
    subscribeKey: 'sub-c-demo',
    publishKey: PUBLISH_KEY,
    secretKey: SECRET_KEY,
    authKey: AUTH_KEY,
    userId: 'user-1',
    transport: httpTransport({ origin: emulator.origin }),
    plugins: [cache, spy],
  });
  try {
    await client.heartbeat({ channels: [CHANNEL], heartbeat: 60 });
    await client.setPresenceState({ channels: [CHANNEL], state: { mood: 'ok' } });
    await client.hereNow({ channels: [CHANNEL], includeState: true });
    await client.hereNow({ channels: [CHANNEL, 'other'] });
    await client.hereNow({ global: true });
    await cache.flush();
    await client.setPresenceState({ channels: [CHANNEL], state: { mood: 'fine' } }); // invalidation on the bus
    await client.hereNow({ channels: [CHANNEL], includeState: true });
    await cache.flush();
  } finally {
    await client.close();
  }
  expect(signatures.length).toBeGreaterThan(3);

  const { keys, contents } = await dumpRedis(redis);
  expect(keys.some((k) => k.endsWith(':v'))).toBe(true);
  expect(contents.join('').length).toBeGreaterThan(0);
  expect(messages.length).toBeGreaterThan(0);
  const everything = [...keys, ...contents, ...messages].join('\n');
  for (const secret of [AUTH_KEY, SECRET_KEY, ...signatures]) expect(everything).not.toContain(secret);
  // Keys and bus messages are opaque hashes; only the cached response bodies may name the channel.
  expect([...keys, ...messages].join('\n')).not.toContain('SENTINEL');
});
