import { createPresence, type PresenceClient } from '@presence/core';
import { createEmulator, type Emulator } from '@presence/emulator';
import { httpTransport } from '@presence/transport-http';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dumpRedis, eventually, signatureSpy } from '../test/helpers.js';
import { redisRoster, type RedisRosterPlugin } from './index.js';
import { connect, startRedisServer, type RedisServer } from './testing.js';

const AUTH_KEY = 'auth-SENTINEL-2b81f0';
const SECRET_KEY = 'sec-c-SENTINEL-93ce47';
const PUBLISH_KEY = 'pub-c-demo';
const CHANNEL = 'private-room-SENTINEL';

let server: RedisServer;
let emulator: Emulator;
const connections: Redis[] = [];

beforeAll(async () => {
  [server, emulator] = await Promise.all([startRedisServer(), createEmulator({ secretKey: SECRET_KEY, publishKey: PUBLISH_KEY, subscribeHoldMs: 500 })]);
});

afterAll(async () => {
  for (const c of connections) c.disconnect();
  await emulator?.close();
  await server?.stop();
});

it('redisRoster puts no auth key, secret key or signature in any Redis key, value or bus message, and no channel name in a key', async () => {
  const monitor = await connect(server.port);
  connections.push(monitor);
  const messages: string[] = [];
  monitor.on('pmessage', (_pattern: string, channel: string, message: string) => messages.push(channel, message));
  await monitor.psubscribe('*');
  const { plugin: spy, signatures } = signatureSpy();
  const replicas: Array<{ client: PresenceClient; live: RedisRosterPlugin }> = [];
  for (let i = 0; i < 2; i++) {
    const redis = await connect(server.port);
    connections.push(redis);
    const live = redisRoster({ redis, channels: [CHANNEL], leaseMs: 600, upstreamCacheMs: 0 });
    const client = createPresence({ subscribeKey: 'sub-c-demo', publishKey: PUBLISH_KEY, secretKey: SECRET_KEY, authKey: AUTH_KEY, userId: `user-${i}`, transport: httpTransport({ origin: emulator.origin }), plugins: [live, spy] });
    replicas.push({ client, live });
  }
  try {
    await Promise.all(replicas.map((r) => r.live.ready));
    await replicas[0]!.client.heartbeat({ channels: [CHANNEL], heartbeat: 60, state: { [CHANNEL]: { mood: 'ok' } } });
    await eventually(async () => (await replicas[1]!.client.hereNow({ channels: [CHANNEL], includeState: true })).channels[0]!.occupancy === 1, 5000);
  } finally {
    await Promise.all(replicas.map((r) => r.client.close()));
  }
  expect(signatures.length).toBeGreaterThan(2);
  const reader = await connect(server.port);
  connections.push(reader);
  const { keys, contents } = await dumpRedis(reader);
  expect(keys.some((k) => k.endsWith(':snapshot'))).toBe(true);
  expect(contents.join('').length).toBeGreaterThan(0);
  expect(messages.length).toBeGreaterThan(0);
  const everything = [...keys, ...contents, ...messages].join('\n');
  for (const secret of [AUTH_KEY, SECRET_KEY, ...signatures]) expect(everything).not.toContain(secret);
  expect([...keys, ...messages.filter((_, i) => i % 2 === 0)].join('\n')).not.toContain('SENTINEL');
});
