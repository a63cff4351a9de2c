/**
 * The official `pubnub` SDK subscribing with presence against the emulator: its own event engine runs
 * the handshake and receive loop over loopback, and its listener gets the events. Expected shapes are
 * what the SDK makes of the recorded bodies (notes §4, "JS listener payload").
 */
import PubNub from 'pubnub';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

function client(userId: string, extra: Partial<ConstructorParameters<typeof PubNub>[0]> = {}): PubNub {
  const pn = new PubNub({
    origin: `127.0.0.1:${emulator.port}`,
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
function watcher(userId: string, extra: Partial<ConstructorParameters<typeof PubNub>[0]> = {}): Watcher {
  const pn = client(userId, extra);
  const w: Watcher = { pn, events: [], errors: [] };
  pn.addListener({
    presence: (event) => w.events.push(event as unknown as PresenceEvent),
    status: (status) => {
      if (status.error) w.errors.push(status);
    },
  });
  return w;
}

/** Poll a condition (no fixed sleeps); generous deadline for a loaded machine. */
async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const openPolls = (name: string): number => emulator.longPolls().channels[name] ?? 0;
const openGroupPolls = (name: string): number => emulator.longPolls().channelGroups[name] ?? 0;

beforeAll(async () => {
  emulator = await createEmulator({ now: () => clock, sweepIntervalMs: 0, subscribeHoldMs: 60_000 });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => emulator.reset());
afterEach(() => {
  for (const pn of clients.splice(0)) pn.destroy();
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
    expect(w.events.at(-1)).toMatchObject({ channel: 'room', action: 'timeout', uuid: 'gone', occupancy: 0 });
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
});
