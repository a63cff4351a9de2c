import { createPresence, type HereNowResult, type JsonValue, type PresenceClient } from '@presence/core';
import { createEmulator, type Emulator } from '@presence/emulator';
import { httpTransport } from '@presence/transport-http';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Churn } from '../../roster/test/churn.js';
import { sleep } from '../test/helpers.js';
import { redisRoster, type RedisRosterPlugin } from './index.js';
import { connect, startRedisServer, type RedisServer } from './testing.js';

// Exactness of a fleet under churn: the leader's roster and every mirror must equal the emulator's
// own here-now (occupants and state) at every checkpoint. Same churn as the roster's own test
// (1,000 users, 50 channels, interval mode, the 3 s here-now cache, subscribe faults).
const CHECKPOINTS = 10;
let server: RedisServer;
let emulator: Emulator;
const clients: PresenceClient[] = [];
const connections: Redis[] = [];
let offset = 0;

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const c of connections) c.disconnect();
  await emulator?.close();
  await server?.stop();
});

const byChannel = (result: HereNowResult<JsonValue>) =>
  Object.fromEntries(result.channels.map((c) => [c.name, [...c.occupants].map((o) => `${o.userId}=${JSON.stringify(o.state ?? null)}`).sort().join(',')]));

describe('redisRoster exactness under churn', () => {
  it(`the leader and every mirror equal the emulator's here-now at each of ${CHECKPOINTS} checkpoints`, async () => {
    server = await startRedisServer();
    emulator = await createEmulator({ now: () => Date.now() + offset, sweepIntervalMs: 0, hereNowCacheMs: 3000, announceMax: 20, intervalSec: 1, intervalDeltaMaxBytes: 120, subscribeHoldMs: 2000 });
    const upstream = createPresence({ subscribeKey: 'sub-c-churn', userId: 'driver', transport: httpTransport({ origin: emulator.origin }), timeoutMs: 10_000 });
    clients.push(upstream);
    const churn = new Churn(upstream, { users: 1000, channels: 50, crowded: 5, seed: 41 });
    await churn.populate();
    const replicas: Array<{ client: PresenceClient; live: RedisRosterPlugin; answers: string[] }> = [];
    for (let i = 0; i < 3; i++) {
      const redis = await connect(server.port);
      connections.push(redis);
      const live = redisRoster({ redis, channels: churn.channels, leaseMs: 1000, upstreamCacheMs: 3000 });
      const client = createPresence({ subscribeKey: 'sub-c-churn', userId: `replica-${i}`, transport: httpTransport({ origin: emulator.origin }), plugins: [live], timeoutMs: 10_000 });
      clients.push(client);
      const answers: string[] = [];
      client.events.on('rosterAnswer', (a) => answers.push(a.result));
      replicas.push({ client, live, answers });
    }
    await Promise.all(replicas.map((r) => r.live.ready));
    let exact = 0;
    for (let checkpoint = 1; checkpoint <= CHECKPOINTS; checkpoint++) {
      if (checkpoint % 4 === 0) emulator.setFaults([{ operation: 'subscribe', count: 1, response: '503' }]);
      await churn.step(120);
      offset += 3500;
      emulator.tick();
      churn.forgetDoomed();
      const truth = JSON.stringify(byChannel(await upstream.hereNow({ channels: churn.channels, includeState: true })));
      const started = performance.now();
      let agreeing = 0;
      while (performance.now() - started < 20_000) {
        agreeing = 0;
        for (const r of replicas) {
          const before = r.answers.length;
          const mine = await r.client.hereNow({ channels: churn.channels, includeState: true });
          if (r.answers[before] === 'hit' && JSON.stringify(byChannel(mine)) === truth) agreeing++;
        }
        if (agreeing === replicas.length) break;
        await sleep(25);
      }
      expect({ checkpoint, agreeing }).toEqual({ checkpoint, agreeing: replicas.length });
      exact++;
    }
    console.log(`[redisRoster churn] ${exact}/${CHECKPOINTS} checkpoints exact on the leader and ${replicas.length - 1} mirrors; roles: ${replicas.map((r) => r.live.role).join(',')}; changes: ${JSON.stringify(churn.counts)}`);
  }, 300_000);
});
