/**
 * The official `pubnub` SDK subscribing with presence against the emulator: its own event engine runs
 * the handshake and receive loop over loopback, and its listener gets the events. Expected shapes are
 * what the SDK makes of the recorded bodies (notes §4, "JS listener payload").
 */
import PubNub from 'pubnub';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../test/loopback.js';
import { createEmulator, type Emulator } from './create-emulator.js';

const SUB = 'sub-c-live';
const PUB = 'pub-c-live';

let clock = 1_757_969_434_794;
let emulator: Emulator;
const clients: PubNub[] = [];

interface PresenceEvent {
  channel: string;
  subscription: string | null;
  actualChannel: string | null;
  subscribedChannel: string;
  timetoken: string;
  action: string;
  uuid?: string;
  timestamp: number;
  precise_timestamp?: number;
  occupancy: number;
  state?: unknown;
  join?: string[];
  leave?: string[];
  timeout?: string[];
  hereNowRefresh?: boolean;
}

interface Watcher {
  pn: PubNub;
  events: PresenceEvent[];
  errors: unknown[];
}

type Config = Partial<ConstructorParameters<typeof PubNub>[0]>;

function client(userId: string, extra: Config = {}, target = emulator): PubNub {
  const pn = new PubNub({
    origin: `127.0.0.1:${target.port}`,
    ssl: false,
    subscribeKey: SUB,
    publishKey: PUB,
    userId,
    ...extra,
  });
  clients.push(pn);
  return pn;
}

/** A client that records every presence event and every error status its listener sees. */
function watcher(userId: string, extra: Config = {}, target = emulator): Watcher {
  const pn = client(userId, extra, target);
  const w: Watcher = { pn, events: [], errors: [] };
  pn.addListener({
    presence: (event) => w.events.push(event as unknown as PresenceEvent),
    status: (status) => {
      if (status.error) w.errors.push(status);
    },
  });
  return w;
}

const openPolls = (name: string, target = emulator): number => target.longPolls().channels[name] ?? 0;
const openGroupPolls = (name: string): number => emulator.longPolls().channelGroups[name] ?? 0;

const extra: Emulator[] = [];
async function another(options: Parameters<typeof createEmulator>[0]): Promise<Emulator> {
  const e = await createEmulator({ now: () => clock, sweepIntervalMs: 0, subscribeHoldMs: 60_000, ...options });
  extra.push(e);
  return e;
}

/** A plain heartbeat over HTTP (a user we do not need a whole SDK client for). */
async function heartbeat(target: Emulator, channel: string, uuid: string): Promise<void> {
  const res = await fetch(`${target.origin}/v2/presence/sub-key/${SUB}/channel/${channel}/heartbeat?heartbeat=300&uuid=${uuid}`);
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  emulator = await createEmulator({ now: () => clock, sweepIntervalMs: 0, subscribeHoldMs: 60_000 });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => emulator.reset());
afterEach(async () => {
  for (const pn of clients.splice(0)) pn.destroy();
  for (const e of extra.splice(0)) await e.close();
});

describe('official pubnub SDK: subscribe withPresence', () => {
  it('receives join, state-change and leave of another user with the recorded fields and types', async () => {
    const w = watcher('watcher');
    w.pn.subscribe({ channels: ['room-pnpres'] });
    await until('the watcher to hold a long-poll', () => openPolls('room-pnpres') === 1);

    const alice = client('alice');
    alice.subscribe({ channels: ['room'] });
    await until('alice to join', () => w.events.some((e) => e.action === 'join' && e.uuid === 'alice'));
    await alice.setState({ channels: ['room'], state: { mood: 'ok' } });
    await until('the state-change', () => w.events.some((e) => e.action === 'state-change'));
    alice.unsubscribe({ channels: ['room'] });
    await until('alice to leave', () => w.events.some((e) => e.action === 'leave'));

    const [join, change, leave] = w.events;
    expect(join).toEqual({
      channel: 'room',
      subscription: 'room-pnpres',
      actualChannel: 'room',
      subscribedChannel: 'room-pnpres',
      timetoken: expect.stringMatching(/^\d{17}$/),
      action: 'join',
      uuid: 'alice',
      timestamp: Math.floor(clock / 1000),
      precise_timestamp: clock,
      occupancy: 1,
    });
    expect(change).toMatchObject({ channel: 'room', action: 'state-change', uuid: 'alice', occupancy: 1, state: { mood: 'ok' } });
    expect(leave).toMatchObject({ channel: 'room', action: 'leave', uuid: 'alice', occupancy: 0, timestamp: Math.floor(clock / 1000) });
    expect(typeof leave?.timestamp).toBe('number');
    expect(typeof leave?.occupancy).toBe('number');
    expect(w.events).toHaveLength(3);
    expect(w.errors).toEqual([]);
  });

  it('withPresence: the subscriber sees its own join; its handshake state is readable through getState', async () => {
    const pn = client('bea');
    const events: PresenceEvent[] = [];
    pn.addListener({ presence: (e) => events.push(e as unknown as PresenceEvent) });
    // With maintainPresenceState (default), the SDK sends this state on the handshake (notes §4).
    await pn.setState({ channels: ['lobby'], state: { mood: 'pre' } });
    pn.subscribe({ channels: ['lobby'], withPresence: true });
    await until('bea to see her own join', () => events.some((e) => e.action === 'join'));
    expect(events[0]).toMatchObject({ channel: 'lobby', subscription: 'lobby-pnpres', action: 'join', uuid: 'bea', occupancy: 1 });
    const other = client('reader');
    const state = await other.getState({ uuid: 'bea', channels: ['lobby'] });
    expect(state).toEqual({ channels: { lobby: { mood: 'pre' } } });
  });

  it('timeout events arrive when the fake clock passes the heartbeat', async () => {
    const w = watcher('watcher');
    w.pn.subscribe({ channels: ['room-pnpres'] });
    await until('the watcher to hold a long-poll', () => openPolls('room-pnpres') === 1);
    // A legacy (non event-engine) subscriber sends heartbeat=<presenceTimeout> on subscribe (notes §4).
    const gone = client('gone', { enableEventEngine: false, presenceTimeout: 20 });
    gone.subscribe({ channels: ['room'] });
    await until('gone to join', () => w.events.some((e) => e.action === 'join'));
    gone.destroy();
    clock += 20_001;
    expect(emulator.tick().timedOut).toBe(1);
    await until('the timeout event', () => w.events.some((e) => e.action === 'timeout'));
    // Not necessarily the last event: on a loaded machine a request `destroy()` did not stop may land after the sweep and re-join.
    expect(w.events.find((e) => e.action === 'timeout')).toMatchObject({ channel: 'room', action: 'timeout', uuid: 'gone', occupancy: 0 });
    expect(w.errors).toEqual([]);
  });

  it('channel groups: subscribedChannel is <group>-pnpres, channel the member channel', async () => {
    const admin = client('admin');
    await admin.channelGroups.addChannels({ channelGroup: 'cg-live', channels: ['g1', 'g2'] });
    const w = watcher('watcher');
    w.pn.subscribe({ channelGroups: ['cg-live-pnpres'] });
    await until('the watcher to hold a long-poll', () => openGroupPolls('cg-live-pnpres') === 1);
    client('gina').subscribe({ channels: ['g2'] });
    await until('gina to join', () => w.events.length > 0);
    expect(w.events[0]).toMatchObject({
      channel: 'g2',
      subscription: 'cg-live-pnpres',
      actualChannel: 'g2',
      subscribedChannel: 'cg-live-pnpres',
      action: 'join',
      uuid: 'gina',
      occupancy: 1,
    });
    expect(w.errors).toEqual([]);
  });

  it('interval events, with the delta lists and with hereNowRefresh', async () => {
    const crowded = await another({ announceMax: 2, intervalSec: 10, intervalDeltaMaxBytes: 20 });
    const w = watcher('watcher', {}, crowded);
    w.pn.subscribe({ channels: ['hall-pnpres'] });
    await until('the watcher to hold a long-poll', () => openPolls('hall-pnpres', crowded) === 1);
    for (const uuid of ['a', 'b', 'c']) await heartbeat(crowded, 'hall', uuid);
    await until('two joins', () => w.events.length === 2);
    clock += 10_000;
    expect(crowded.tick().intervals).toBe(1);
    await until('the first interval', () => w.events.length === 3);
    // {"join":["d","e","f"]} is 22 bytes > intervalDeltaMaxBytes 20: here-now refresh instead of lists.
    for (const uuid of ['d', 'e', 'f']) await heartbeat(crowded, 'hall', uuid);
    clock += 10_000;
    crowded.tick();
    await until('the second interval', () => w.events.length === 4);
    expect(w.events.map((e) => e.action)).toEqual(['join', 'join', 'interval', 'interval']);
    const interval = {
      channel: 'hall',
      subscription: 'hall-pnpres',
      actualChannel: 'hall',
      subscribedChannel: 'hall-pnpres',
      timetoken: expect.stringMatching(/^\d{17}$/),
      action: 'interval',
    };
    expect(w.events[2]).toEqual({ ...interval, timestamp: Math.floor((clock - 10_000) / 1000), occupancy: 3, join: ['c'], hereNowRefresh: false });
    expect(w.events[3]).toEqual({ ...interval, timestamp: Math.floor(clock / 1000), occupancy: 6, hereNowRefresh: true });
    expect(w.errors).toEqual([]);
  });

  it('a leave comes both from the leave call and, with suppressLeaveEvents, from the subscribe that drops the channel', async () => {
    const w = watcher('watcher');
    w.pn.subscribe({ channels: ['x-pnpres', 'y-pnpres'] });
    await until('the watcher to hold a long-poll', () => openPolls('x-pnpres') === 1);
    const polite = client('polite');
    polite.subscribe({ channels: ['x'] });
    // The legacy subscription manager honours suppressLeaveEvents (the 11.x event engine sends the leave anyway).
    const quiet = client('quiet', { enableEventEngine: false, suppressLeaveEvents: true });
    quiet.subscribe({ channels: ['x', 'y'] });
    await until('three joins', () => w.events.filter((e) => e.action === 'join').length === 3);
    polite.unsubscribe({ channels: ['x'] });
    await until('polite to leave', () => w.events.some((e) => e.action === 'leave' && e.uuid === 'polite'));
    // No leave call is sent; the SDK's next handshake lists y only, which drops x.
    quiet.unsubscribe({ channels: ['x'] });
    await until('quiet to leave x', () => w.events.some((e) => e.action === 'leave' && e.uuid === 'quiet'));
    const stats = emulator.stats().requests.byOperation;
    expect(stats.leave).toBe(1);
    expect(w.events.filter((e) => e.action === 'leave').map((e) => [e.channel, e.uuid, e.occupancy])).toEqual([
      ['x', 'polite', 1],
      ['x', 'quiet', 0],
    ]);
    expect(w.errors).toEqual([]);
  });

  it('its subscribe loop runs with no errors and no busy loop', async () => {
    const looping = await another({ subscribeHoldMs: 50 });
    const w = watcher('looper', {}, looping);
    w.pn.subscribe({ channels: ['loop'], withPresence: true });
    await until('the own join', () => w.events.length === 1);
    const started = looping.stats().requests.byOperation.subscribe;
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    const elapsed = Date.now() - t0;
    const made = looping.stats().requests.byOperation.subscribe - started;
    // One receive per hold (50 ms) at most, plus slack; a busy loop would make thousands.
    expect(made).toBeGreaterThanOrEqual(2);
    expect(made).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 5);
    expect(looping.stats().subscribe.releasedEmpty).toBeGreaterThanOrEqual(made - 1);
    expect(w.errors).toEqual([]);
    expect(w.events).toHaveLength(1);
  });

  it('signed subscribes (secretKey) are verified and served', async () => {
    const signed = await another({ secretKey: 'sec-c-live', publishKey: PUB });
    const pn = client('signer', { secretKey: 'sec-c-live' }, signed);
    const events: PresenceEvent[] = [];
    pn.addListener({ presence: (e) => events.push(e as unknown as PresenceEvent) });
    pn.subscribe({ channels: ['vault', 'hall'], withPresence: true });
    await until('own joins', () => events.length === 2);
    expect(events.map((e) => e.channel).sort()).toEqual(['hall', 'vault']);
    expect(signed.stats().signatureFailures).toBe(0);
    expect(signed.stats().requests.byOperation.subscribe).toBeGreaterThanOrEqual(2);
  });
});
