import { createPresence, type HereNowResult, type JsonValue, type PresenceClient, type RosterRole } from '@presence/core';
import { createEmulator, type Emulator } from '@presence/emulator';
import { httpTransport } from '@presence/transport-http';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sleep } from '../test/helpers.js';
import { redisCache, redisRoster, type RedisRosterPlugin } from './index.js';
import { connect, startRedisServer, type RedisServer } from './testing.js';

// Several replicas in one process, each with its own client and Redis connection: one leads, the
// others mirror it through a real redis-server; the emulator over loopback is upstream.
let server: RedisServer;
let emulator: Emulator;
let upstream: PresenceClient;
const replicas: Array<{ client: PresenceClient; live: RedisRosterPlugin; redis: Redis; results: string[] }> = [];
const LEASE_MS = 600;

beforeAll(async () => {
  [server, emulator] = await Promise.all([startRedisServer(), createEmulator({ subscribeHoldMs: 500 })]);
  upstream = createPresence({ subscribeKey: 'sub-c-fleet', userId: 'driver', transport: httpTransport({ origin: emulator.origin }) });
}, 60_000);

afterEach(async () => {
  await Promise.all(replicas.splice(0).map(async (r) => {
    await r.client.close();
    r.redis.disconnect();
  }));
  emulator.reset();
  server.resume();
});

afterAll(async () => {
  await upstream?.close();
  await emulator?.close();
  await server?.stop();
});

async function replica(options: { cache?: boolean } = {}) {
  const redis = await connect(server.port);
  const live = redisRoster({ redis, channels: ['lobby', 'kitchen'], leaseMs: LEASE_MS, upstreamCacheMs: 0, commandTimeoutMs: 100 });
  const plugins = options.cache ? [live, redisCache({ redis, commandTimeoutMs: 50 })] : [live];
  const client = createPresence({ subscribeKey: 'sub-c-fleet', userId: `replica-${replicas.length}`, transport: httpTransport({ origin: emulator.origin }), plugins });
  const results: string[] = [];
  client.events.on('rosterAnswer', (a) => results.push(a.result));
  const entry = { client, live, redis, results };
  replicas.push(entry);
  return entry;
}

const roles = (): RosterRole[] => replicas.map((r) => r.live.role);
const hereNowRequests = (): number => emulator.stats().requests.byOperation.hereNow;
const shape = (result: HereNowResult<JsonValue>) =>
  result.channels.map((c) => ({ name: c.name, occupancy: c.occupancy, occupants: [...c.occupants].map((o) => `${o.userId}=${JSON.stringify(o.state ?? null)}`).sort() }));
const join = (userId: string, channel: string, state?: Record<string, string>) =>
  upstream.heartbeat({ channels: [channel], heartbeat: 300, userId, ...(state ? { state: { [channel]: state } } : {}) });

async function allAgree(): Promise<boolean> {
  const truth = JSON.stringify(shape(await upstream.hereNow({ channels: ['lobby', 'kitchen'], includeState: true })));
  for (const r of replicas) {
    const before = r.results.length;
    const mine = await r.client.hereNow({ channels: ['lobby', 'kitchen'], includeState: true });
    if (r.results[before] !== 'hit' || JSON.stringify(shape(mine)) !== truth) {
      if (process.env.DEBUG_ROSTER) console.log(r.live.role, r.results[before], JSON.stringify(shape(mine)), truth);
      return false;
    }
  }
  return true;
}

describe("redisRoster: the leader's and every mirror's here-now answer equals the emulator's", () => {
  it('for every flag, channel mix, group and page, occupant order included', async () => {
    await fetch(`${emulator.origin}/v1/channel-registration/sub-key/sub-c-fleet/channel-group/floor?add=r1,r2,r3&uuid=admin`);
    for (const [i, userId] of ['zoe', 'adam', 'mia', 'bob', 'yan', 'carl'].entries()) await join(userId, 'lobby', i % 2 ? { seat: String(i) } : undefined);
    await join('kim', 'kitchen', { mood: 'hungry' });
    await join('rob', 'r2');
    await join('ann', 'r1', { desk: '4' });
    const fleet = await Promise.all([0, 1].map(async (i) => {
      const redis = await connect(server.port);
      const live = redisRoster({ redis, channels: ['lobby', 'kitchen', 'attic'], channelGroups: ['floor'], leaseMs: LEASE_MS, upstreamCacheMs: 0, commandTimeoutMs: 100 });
      const client = createPresence({ subscribeKey: 'sub-c-fleet', userId: `eq-${i}`, transport: httpTransport({ origin: emulator.origin }), plugins: [live] });
      const results: string[] = [];
      client.events.on('rosterAnswer', (a) => results.push(a.result));
      replicas.push({ client, live, redis, results });
      return { client, live, results };
    }));
    await Promise.all(fleet.map((r) => r.live.ready));
    await join('aaron', 'lobby'); // after seeding: reaches the mirror as a diff, and comes last
    const questions = [
      { channels: ['lobby'] },
      { channels: ['lobby'], includeState: true },
      { channels: ['lobby'], includeUserIds: false },
      { channels: ['attic'], includeState: true },
      { channels: ['kitchen', 'lobby', 'attic'], includeState: true },
      { channelGroups: ['floor'], includeState: true },
      { channels: ['lobby', 'attic'], channelGroups: ['floor'] },
      { channels: ['lobby'], limit: 0 },
      ...[0, 2, 4, 6].map((offset) => ({ channels: ['lobby'], limit: 2, offset, includeState: true })),
      { channels: ['lobby', 'kitchen'], limit: 1, offset: 1 },
    ];
    await eventually(async () => {
      const truth = JSON.stringify(await upstream.hereNow({ channels: ['lobby'] }));
      for (const r of fleet) if (JSON.stringify(await r.client.hereNow({ channels: ['lobby'] })) !== truth) return false;
      return true;
    }, 5000);
    expect(fleet.map((r) => r.live.role).sort()).toEqual(['leader', 'mirror']);
    for (const r of fleet) {
      const before = r.results.length;
      for (const question of questions) expect(await r.client.hereNow(question), `${r.live.role} ${JSON.stringify(question)}`).toStrictEqual(await upstream.hereNow(question));
      expect(r.results.slice(before).every((x) => x === 'hit')).toBe(true);
    }
  });
});

describe('redisRoster close()', () => {
  async function withOwnSubscriber() {
    const redis = await connect(server.port);
    const subscriber = await connect(server.port);
    const live = redisRoster({ redis, subscriber, channels: ['lobby'], leaseMs: LEASE_MS, upstreamCacheMs: 0, commandTimeoutMs: 100 });
    const client = createPresence({ subscribeKey: 'sub-c-fleet', userId: 'closer', transport: httpTransport({ origin: emulator.origin }), plugins: [live] });
    return { redis, subscriber, live, client };
  }

  it('a second close() waits for the first to finish: the diff channel is let go when either resolves', async () => {
    const { redis, subscriber, live, client } = await withOwnSubscriber();
    try {
      await live.ready;
      expect(subscriber.listenerCount('message')).toBe(1);
      void live.close();
      await live.close();
      expect(subscriber.listenerCount('message')).toBe(0);
      // A closed roster never subscribes a given connection again when it reconnects.
      expect(subscriber.listenerCount('ready')).toBe(0);
    } finally {
      await client.close();
      redis.disconnect();
      subscriber.disconnect();
    }
  });

  it('with Redis paused, close() still settles: the unsubscribe of a given subscriber has a deadline too', async () => {
    const { redis, subscriber, live, client } = await withOwnSubscriber();
    try {
      await live.ready;
      server.pause();
      const closed = await Promise.race([live.close().then(() => 'closed'), sleep(5000).then(() => 'hung')]);
      expect(closed).toBe('closed');
    } finally {
      server.resume();
      await client.close();
      redis.disconnect();
      subscriber.disconnect();
    }
  });
});

describe('redisRoster: one roster for a fleet', () => {
  it('one leader watches; every replica answers from memory, exactly, with no request', async () => {
    await join('u1', 'lobby', { mood: 'ok' });
    await join('u2', 'kitchen');
    await Promise.all([replica(), replica(), replica()]);
    await Promise.all(replicas.map((r) => r.live.ready));
    expect(roles().filter((r) => r === 'leader')).toHaveLength(1);
    expect(roles().filter((r) => r === 'mirror')).toHaveLength(2);
    await eventually(allAgree, 5000);
    const before = hereNowRequests();
    for (const r of replicas) await r.client.hereNow({ channels: ['lobby'] });
    expect(hereNowRequests()).toBe(before);
    // Only the leader subscribes.
    expect(emulator.stats().subscribe.openLongPolls).toBeLessThanOrEqual(1);

    // Changes reach every mirror, as diffs in version order.
    const mirror = replicas.find((r) => r.live.role === 'mirror')!;
    const controller = new AbortController();
    const seen: Array<{ joined: readonly string[]; version: number }> = [];
    const reading = (async () => {
      for await (const diff of mirror.live.changes({ signal: controller.signal })) seen.push(diff);
    })();
    await join('u3', 'lobby', { mood: 'new' });
    await upstream.leave({ channels: ['kitchen'], userId: 'u2' });
    await eventually(allAgree, 5000);
    await eventually(() => seen.length >= 2, 5000);
    controller.abort();
    await reading;
    expect(seen.map((d) => d.version)).toEqual(seen.map((_, i) => seen[0]!.version + i));
  });

  it('a redis client made with lazyConnect (not connected yet) still leads and answers: the roster connects it', async () => {
    const lazy = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    lazy.on('error', () => {});
    const live = redisRoster({ redis: lazy, channels: ['lobby', 'kitchen'], leaseMs: LEASE_MS, upstreamCacheMs: 0, commandTimeoutMs: 100 });
    const client = createPresence({ subscribeKey: 'sub-c-fleet', userId: 'lazy-replica', transport: httpTransport({ origin: emulator.origin }), plugins: [live] });
    const results: string[] = [];
    client.events.on('rosterAnswer', (a) => results.push(a.result));
    replicas.push({ client, live, redis: lazy, results });
    await join('u1', 'lobby');
    await live.ready;
    expect(live.role).toBe('leader');
    await eventually(allAgree, 5000);
  });

  it('when the leader goes, another takes the lease within about leaseMs, re-seeds, and the mirrors converge', async () => {
    await join('u1', 'lobby');
    await Promise.all([replica(), replica(), replica()]);
    await Promise.all(replicas.map((r) => r.live.ready));
    const leader = replicas.find((r) => r.live.role === 'leader')!;
    const versionBefore = leader.live.version;
    expect(versionBefore).toBeGreaterThan(0);
    const gone = performance.now();
    await leader.client.close();
    replicas.splice(replicas.indexOf(leader), 1);
    leader.redis.disconnect();
    const takeoverMs = await eventually(() => roles().includes('leader'), LEASE_MS * 5);
    expect(roles().filter((r) => r === 'leader')).toHaveLength(1);
    await join('u9', 'kitchen');
    await eventually(allAgree, 5000);
    // The new leader's versions go on from the old one's: no reader of changes() sees them go back.
    for (const r of replicas) expect(r.live.version).toBeGreaterThan(versionBefore);
    expect(performance.now() - gone).toBeGreaterThan(0);
    expect(takeoverMs).toBeLessThan(LEASE_MS * 5);
  });

  it('Redis paused: no caller sees an error, answers fall through; after it resumes the fleet answers from memory again', async () => {
    await join('u1', 'lobby');
    await Promise.all([replica({ cache: true }), replica({ cache: true })]);
    await Promise.all(replicas.map((r) => r.live.ready));
    await eventually(allAgree, 5000);
    server.pause();
    // The leader cannot renew and steps down; the mirror hears nothing: both stop answering from memory.
    await sleep(LEASE_MS * 2);
    const before = replicas.map((r) => r.results.length);
    for (let i = 0; i < 5; i++) {
      for (const r of replicas) {
        const result = await r.client.hereNow({ channels: ['lobby'] });
        expect(result.channels[0]!.occupancy).toBe(1);
      }
    }
    for (const [index, r] of replicas.entries()) expect(r.results.slice(before[index]).every((x) => x !== 'hit')).toBe(true);
    expect(roles()).not.toContain('leader');
    server.resume();
    await eventually(() => roles().includes('leader'), LEASE_MS * 10);
    await eventually(allAgree, 10_000);
  });
});
