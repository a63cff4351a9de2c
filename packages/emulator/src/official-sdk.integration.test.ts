/**
 * The official `pubnub` SDK as a real client over loopback. Expected results are what the SDK returns
 * against the real service (notes §3), including its known mis-parses.
 */
import PubNub from 'pubnub';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from './create-emulator.js';

const SUB = 'sub-c-sdk';
const PUB = 'pub-c-sdk';

let emulator: Emulator;
const clients: PubNub[] = [];

/** Private SDK methods we drive directly: they are what the subscribe machinery calls. */
interface PresenceInternals {
  heartbeat(parameters: {
    channels?: string[];
    channelGroups?: string[];
    heartbeat: number;
    state?: Record<string, unknown>;
  }): Promise<unknown>;
  makeUnsubscribe(parameters: { channels?: string[]; channelGroups?: string[] }, callback: (status: { error: boolean; statusCode?: number }) => void): void;
}

function client(userId: string, extra: Partial<ConstructorParameters<typeof PubNub>[0]> = {}, target = emulator): PubNub {
  const pn = new PubNub({
    origin: `127.0.0.1:${target.port}`,
    ssl: false,
    subscribeKey: SUB,
    publishKey: PUB,
    userId,
    // No event engine and no presenceTimeout: nothing schedules heartbeats or timers behind our back.
    enableEventEngine: false,
    ...extra,
  });
  clients.push(pn);
  return pn;
}

const internals = (pn: PubNub): PresenceInternals => pn as unknown as PresenceInternals;

async function join(userId: string, channels: string[], extra: { channelGroups?: string[]; state?: Record<string, unknown>; heartbeat?: number } = {}): Promise<void> {
  await internals(client(userId)).heartbeat({ channels, heartbeat: extra.heartbeat ?? 300, ...extra });
}

function leave(pn: PubNub, channels: string[], channelGroups?: string[]): Promise<{ error: boolean; statusCode?: number }> {
  return new Promise((resolve) => internals(pn).makeUnsubscribe({ channels, channelGroups }, resolve));
}

async function rejection(promise: Promise<unknown>): Promise<{ status: { category: string; statusCode: number; errorData?: unknown } }> {
  try {
    await promise;
  } catch (error) {
    return error as { status: { category: string; statusCode: number; errorData?: unknown } };
  }
  throw new Error('expected the SDK call to fail');
}

beforeAll(async () => {
  emulator = await createEmulator({ sweepIntervalMs: 0 });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => emulator.reset());
afterEach(() => {
  for (const pn of clients.splice(0)) pn.destroy();
});

describe('official pubnub SDK against the emulator', () => {
  it('hereNow, single channel: occupants in join order with state null', async () => {
    await join('alice', ['room']);
    await join('bob', ['room']);
    const result = await client('watcher').hereNow({ channels: ['room'] });
    expect(result).toEqual({
      totalChannels: 1,
      totalOccupancy: 2,
      channels: {
        room: { name: 'room', occupancy: 2, occupants: [{ uuid: 'alice', state: null }, { uuid: 'bob', state: null }] },
      },
    });
  });

  it('hereNow, single channel with awkward names (comma, slash, space, unicode)', async () => {
    await join('ü id!*\'()~', ['room 1/a,b']);
    const result = await client('watcher').hereNow({ channels: ['room 1/a,b'] });
    expect(result.channels['room 1/a,b']?.occupants).toEqual([{ uuid: 'ü id!*\'()~', state: null }]);
    const where = await client('w2').whereNow({ uuid: 'ü id!*\'()~' });
    expect(where.channels).toEqual(['room 1/a,b']);
  });

  it('hereNow, multi channel: empty channels are left out', async () => {
    await join('alice', ['a', 'b']);
    await join('bob', ['b']);
    const result = await client('watcher').hereNow({ channels: ['a', 'b', 'nobody-here'] });
    expect(result.totalChannels).toBe(2);
    expect(result.totalOccupancy).toBe(3);
    expect(Object.keys(result.channels)).toEqual(['a', 'b']);
    expect(result.channels.b?.occupants).toEqual([{ uuid: 'alice', state: null }, { uuid: 'bob', state: null }]);
  });

  it('hereNow, global', async () => {
    await join('alice', ['g1']);
    await join('bob', ['g2']);
    const result = await client('watcher').hereNow({});
    expect(result.totalChannels).toBe(2);
    expect(result.totalOccupancy).toBe(2);
    expect(result.channels.g1?.occupants).toEqual([{ uuid: 'alice', state: null }]);
    expect(result.channels.g2?.occupants).toEqual([{ uuid: 'bob', state: null }]);
  });

  it('hereNow, includeUUIDs: false', async () => {
    await join('alice', ['x', 'y']);
    const pn = client('watcher');
    const single = await pn.hereNow({ channels: ['x'], includeUUIDs: false });
    expect(single.channels.x).toEqual({ name: 'x', occupancy: 1, occupants: [] });
    const multi = await pn.hereNow({ channels: ['x', 'y'], includeUUIDs: false });
    expect(multi.totalOccupancy).toBe(2);
    expect(multi.channels.y).toEqual({ name: 'y', occupancy: 1, occupants: [] });
  });

  it('hereNow, includeState: objects carry state only when one exists', async () => {
    await join('alice', ['s']);
    await join('bob', ['s']);
    await client('alice').setState({ channels: ['s'], state: { mood: 'ok' } });
    const result = await client('watcher').hereNow({ channels: ['s'], includeState: true });
    expect(result.channels.s?.occupants).toEqual([{ uuid: 'alice', state: { mood: 'ok' } }, { uuid: 'bob' }]);
    const multi = await client('watcher').hereNow({ channels: ['s', 'other'], includeState: true });
    expect(multi.channels.s?.occupants).toEqual([{ uuid: 'alice', state: { mood: 'ok' } }, { uuid: 'bob' }]);
  });

  it('hereNow, paging: limit/offset per channel, occupancy stays the full count', async () => {
    for (let i = 0; i < 8; i += 1) await join(`u${i}`, ['ch01']);
    for (let i = 0; i < 3; i += 1) await join(`v${i}`, ['ch02']);
    const pn = client('watcher');
    const page1 = await pn.hereNow({ channels: ['ch01', 'ch02'], limit: 3 });
    expect(page1.totalOccupancy).toBe(11);
    expect(page1.channels.ch01?.occupancy).toBe(8);
    expect(page1.channels.ch01?.occupants.map((o) => o.uuid)).toEqual(['u0', 'u1', 'u2']);
    expect(page1.channels.ch02?.occupants.map((o) => o.uuid)).toEqual(['v0', 'v1', 'v2']);
    const page3 = await pn.hereNow({ channels: ['ch01', 'ch02'], limit: 3, offset: 6 });
    expect(page3.channels.ch01?.occupants.map((o) => o.uuid)).toEqual(['u6', 'u7']);
    expect(page3.channels.ch02?.occupants).toEqual([]);
    // limit=0: the real server omits `uuids`, which crashes this SDK; the emulator sends [] (notes §3.1).
    const none = await pn.hereNow({ channels: ['ch01', 'ch02'], limit: 0 });
    expect(none.channels.ch01).toEqual({ name: 'ch01', occupancy: 8, occupants: [] });
  });

  it('hereNow, limit above 1000 is a 400', async () => {
    const error = await rejection(client('watcher').hereNow({ channels: ['a'], limit: 1001 }));
    expect(error.status.category).toBe('PNBadRequestCategory');
    expect(error.status.statusCode).toBe(400);
    expect(error.status.errorData).toMatchObject({ message: 'Cannot return more than 1000 uuids at a time' });
  });

  it('channel groups: add, list, hereNow keyed by member channels, remove, delete', async () => {
    const pn = client('admin');
    await pn.channelGroups.addChannels({ channelGroup: 'cg1', channels: ['m1', 'm2', 'm3'] });
    expect(await pn.channelGroups.listChannels({ channelGroup: 'cg1' })).toEqual({ channels: ['m1', 'm2', 'm3'] });
    expect(await pn.channelGroups.listGroups()).toEqual({ groups: ['cg1'] });

    await join('alice', [], { channelGroups: ['cg1'] });
    await join('bob', ['m2']);
    const here = await pn.hereNow({ channelGroups: ['cg1'] });
    expect(Object.keys(here.channels)).toEqual(['m1', 'm2', 'm3']);
    expect(here.totalOccupancy).toBe(4);
    expect(here.channels.m2?.occupants.map((o) => o.uuid)).toEqual(['alice', 'bob']);
    // One channel plus a group is still the multi form.
    const mixed = await pn.hereNow({ channels: ['m2'], channelGroups: ['cg1'] });
    expect(mixed.totalChannels).toBe(3);

    await pn.channelGroups.removeChannels({ channelGroup: 'cg1', channels: ['m1'] });
    expect(await pn.channelGroups.listChannels({ channelGroup: 'cg1' })).toEqual({ channels: ['m2', 'm3'] });
    await pn.channelGroups.deleteGroup({ channelGroup: 'cg1' });
    expect(await pn.channelGroups.listGroups()).toEqual({ groups: [] });
  });

  it('whereNow lists the channels of a uuid, empty for unknown ones', async () => {
    await join('alice', ['w1', 'w2']);
    expect(await client('watcher').whereNow({ uuid: 'alice' })).toEqual({ channels: ['w1', 'w2'] });
    expect(await client('watcher').whereNow({ uuid: 'ghost' })).toEqual({ channels: [] });
    expect(await client('alice').whereNow({})).toEqual({ channels: ['w1', 'w2'] });
  });

  it('setState echoes the state; getState single, multi and group', async () => {
    const alice = client('alice');
    await alice.channelGroups.addChannels({ channelGroup: 'sg', channels: ['s2', 's3'] });
    expect(await alice.setState({ channels: ['s1'], channelGroups: ['sg'], state: { mood: 'ok', n: 1 } })).toEqual({
      state: { mood: 'ok', n: 1 },
    });
    expect(await alice.getState({ channels: ['s1'] })).toEqual({ channels: { s1: { mood: 'ok', n: 1 } } });
    // Multi and group forms: the real server nests `payload.channels` and this SDK passes `payload` through,
    // so its result is `{channels:{channels:{...}}}` (notes §3.4, §10 bug (a)). That IS the real behaviour.
    expect(await client('other').getState({ uuid: 'alice', channels: ['s1', 's2'] })).toEqual({
      channels: { channels: { s1: { mood: 'ok', n: 1 }, s2: { mood: 'ok', n: 1 } } },
    });
    expect(await alice.getState({ channelGroups: ['sg'] })).toEqual({
      channels: { channels: { s2: { mood: 'ok', n: 1 }, s3: { mood: 'ok', n: 1 } } },
    });
  });

  it('setState rejects non-object state with the invalid-JSON 400', async () => {
    const error = await rejection(client('alice').setState({ channels: ['s'], state: 'abc' as unknown as Record<string, string> }));
    expect(error.status.statusCode).toBe(400);
    expect(error.status.errorData).toEqual({ status: 400, error: 1, message: 'Invalid JSON specified.', service: 'Presence' });
  });

  it('heartbeat with a per-channel state map, and setState withHeartbeat (un-keyed state)', async () => {
    const alice = client('alice');
    await internals(alice).heartbeat({ channels: ['h1', 'h2'], heartbeat: 60, state: { h1: { mood: 'one' } } });
    expect(await alice.getState({ channels: ['h1', 'h2'] })).toEqual({ channels: { channels: { h1: { mood: 'one' } } } });
    await alice.setState({ channels: ['h2'], state: { mood: 'hb' }, withHeartbeat: true });
    expect(await alice.getState({ channels: ['h2'] })).toEqual({ channels: { h2: { mood: 'hb' } } });
    expect((await alice.hereNow({ channels: ['h2'] })).totalOccupancy).toBe(1);
  });

  it('leave removes the user and deletes its state', async () => {
    const alice = client('alice');
    await internals(alice).heartbeat({ channels: ['l1', 'l2'], heartbeat: 300 });
    await alice.setState({ channels: ['l1'], state: { mood: 'bye' } });
    const status = await leave(alice, ['l1']);
    expect(status.error).toBe(false);
    expect(await alice.whereNow({})).toEqual({ channels: ['l2'] });
    expect((await alice.hereNow({ channels: ['l1'] })).totalOccupancy).toBe(0);
    expect(await alice.getState({ channels: ['l1'] })).toEqual({ channels: { l1: {} } });
  });

  it('a false 200 from the fault injector is an error for the SDK', async () => {
    emulator.setFaults([{ operation: 'hereNow', count: 1, response: 'false200' }]);
    const error = await rejection(client('watcher').hereNow({ channels: ['a'] }));
    expect(error.status.statusCode).toBe(503);
    expect((await client('watcher').hereNow({ channels: ['a'] })).totalOccupancy).toBe(0);
  });
});

describe('official pubnub SDK with request signing', () => {
  let signed: Emulator;
  beforeAll(async () => {
    signed = await createEmulator({ secretKey: 'sec-c-right', publishKey: PUB, sweepIntervalMs: 0 });
  });
  afterAll(async () => {
    await signed.close();
  });

  it('accepts requests signed with the right secret key', async () => {
    const pn = client('alice', { secretKey: 'sec-c-right' }, signed);
    await internals(pn).heartbeat({ channels: ['sec'], heartbeat: 60 });
    await pn.channelGroups.addChannels({ channelGroup: 'sg', channels: ['sec'] });
    expect((await pn.hereNow({ channels: ['sec'], channelGroups: ['sg'] })).totalOccupancy).toBe(1);
    expect(await pn.setState({ channels: ['sec'], state: { k: 'v w' } })).toEqual({ state: { k: 'v w' } });
    expect(await pn.whereNow({})).toEqual({ channels: ['sec'] });
    expect(signed.stats().signatureFailures).toBe(0);
  });

  it('rejects a wrong secret key with 403', async () => {
    const pn = client('mallory', { secretKey: 'sec-c-wrong' }, signed);
    const error = await rejection(pn.hereNow({ channels: ['sec'] }));
    expect(error.status.category).toBe('PNAccessDeniedCategory');
    expect(error.status.statusCode).toBe(403);
    expect(error.status.errorData).toMatchObject({ service: 'Access Manager', status: 403 });
  });

  it('rejects unsigned requests with 403', async () => {
    const error = await rejection(client('anon', {}, signed).whereNow({}));
    expect(error.status.statusCode).toBe(403);
  });
});
