/**
 * presence.watch() and here-now paging against the emulator over loopback HTTP (notes §4, §3.1):
 * every event type, channels and groups, observer and participant, interval mode, faults in the
 * middle of the long-poll with the full sequence checked against what the emulator published,
 * a cross-check with the official SDK's listener, and prompt, leak-free ends.
 */
import { request } from 'node:http';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { createPresence, type PresenceClient, type PresenceEvent, type PresenceEventMap, type WatchOptions } from '@presence/core';
import { createEmulator, type Emulator, type EmulatorOptions, type FaultRule } from '@presence/emulator';
import PubNub from 'pubnub';
import { afterEach, describe, expect, test } from 'vitest';
import { httpTransport, type HttpTransport } from './http-transport.js';
import { retry } from './retry.js';

const SUB = 'demo';
let clock = Date.now();
const emulators: Emulator[] = [];
const clients: PresenceClient[] = [];
const transports: HttpTransport[] = [];

async function emulatorWith(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await createEmulator({ now: () => clock, sweepIntervalMs: 0, subscribeHoldMs: 300, catchUpBufferSize: 5000, ...options });
  emulators.push(emulator);
  return emulator;
}

function connect(emulator: Emulator, userId = 'backend'): { presence: PresenceClient; transport: HttpTransport } {
  const transport = httpTransport({ origin: emulator.origin });
  const presence = createPresence({ subscribeKey: SUB, userId, transport, plugins: [retry({ baseDelayMs: 1 })], timeoutMs: 5000 });
  clients.push(presence);
  transports.push(transport);
  return { presence, transport };
}

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  transports.length = 0;
  for (const emulator of emulators.splice(0)) await emulator.close();
});

/** A raw GET on its own socket. */
function get(emulator: Emulator, path: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: emulator.port, path, agent: false, timeout: 15_000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve(text ? JSON.parse(text) : undefined));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Starts a watch and resolves once its handshake is done, with the iterator and the cursor it reads from. */
async function startWatch(presence: PresenceClient, options: WatchOptions) {
  let connected!: (timetoken: string) => void;
  const ready = new Promise<string>((resolve) => (connected = resolve));
  const connects: boolean[] = [];
  const watch = presence.watch({
    ...options,
    onConnect: (info) => {
      connects.push(info.reconnected);
      connected(info.timetoken);
      options.onConnect?.(info);
    },
  });
  const seen: PresenceEvent[] = [];
  const done = (async () => {
    for await (const event of watch) seen.push(event);
  })();
  done.catch(() => {});
  const cursor = await ready;
  return { watch, seen, done, cursor, connects };
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Everything the emulator holds for these -pnpres names after `cursor`, read by a plain client with no faults. */
async function published(emulator: Emulator, names: string, cursor: string): Promise<any[]> {
  const all: any[] = [];
  for (let tt = cursor; ;) {
    const body = await get(emulator, `/v2/subscribe/${SUB}/${names}/0?tt=${tt}&uuid=truth`);
    if (body.m.length === 0) return all;
    all.push(...body.m);
    tt = body.t.t;
  }
}

const summary = (e: PresenceEvent) => `${e.timetoken} ${e.type} ${e.channel} ${'userId' in e ? e.userId : ''} ${e.occupancy}`;
const ACTIONS: Record<string, string> = { join: 'join', leave: 'leave', timeout: 'timeout', 'state-change': 'stateChange', interval: 'interval' };
const summaryOf = (m: any) => `${m.p.t} ${ACTIONS[m.d.action]} ${m.c.replace(/-pnpres$/, '')} ${m.d.uuid ?? ''} ${m.d.occupancy}`;

describe('presence.watch() against the emulator', () => {
  test('every event type, through channels and channel groups, as an observer', async () => {
    const emulator = await emulatorWith();
    const { presence } = connect(emulator);
    const { presence: alice } = connect(emulator, 'alice');
    const { presence: bob } = connect(emulator, 'bob');
    await get(emulator, `/v1/channel-registration/sub-key/${SUB}/channel-group/staff?add=desk&uuid=admin`);
    const { watch, seen } = await startWatch(presence, { channels: ['lobby'], channelGroups: ['staff'] });

    await alice.heartbeat({ channels: ['lobby'], heartbeat: 60 });
    await alice.setPresenceState({ channels: ['lobby'], state: { mood: 'busy' } });
    await alice.leave({ channels: ['lobby'] });
    await bob.heartbeat({ channels: ['desk'], heartbeat: 5 });
    await until(() => seen.length === 4, 'four events');
    clock += 30_000;
    expect(emulator.sweep()).toBe(1);
    await until(() => seen.length === 5, 'the timeout');
    await watch.return();

    expect(seen).toMatchObject([
      { type: 'join', channel: 'lobby', userId: 'alice', occupancy: 1 },
      { type: 'stateChange', channel: 'lobby', userId: 'alice', occupancy: 1, state: { mood: 'busy' } },
      { type: 'leave', channel: 'lobby', userId: 'alice', occupancy: 0 },
      { type: 'join', channel: 'desk', userId: 'bob', occupancy: 1, group: 'staff' },
      { type: 'timeout', channel: 'desk', userId: 'bob', occupancy: 0, group: 'staff' },
    ]);
    for (const event of seen.slice(0, 3)) expect(event).not.toHaveProperty('group');
    for (const event of seen) {
      expect(event.timetoken).toMatch(/^\d{17}$/);
      expect(Math.abs(event.timestamp - clock)).toBeLessThan(60_000);
    }
    // The observer never became an occupant.
    const here = await presence.hereNow({ channels: ['lobby', 'desk'] });
    expect(here.channels.flatMap((c) => c.occupants.map((o) => o.userId))).not.toContain('backend');
  });

  test('a participant appears in here-now with its state and sees its own join; an observer does not appear', async () => {
    const emulator = await emulatorWith();
    const { presence: observer } = connect(emulator, 'observer');
    const { presence } = connect(emulator, 'backend');
    const watching = await startWatch(observer, { channels: ['lobby'] });
    const taking = await startWatch(presence, { channels: ['lobby'], participant: true, heartbeat: 60, state: { lobby: { role: 'bot' } } });
    await until(() => taking.seen.length >= 1, 'its own join');
    expect(taking.seen[0]).toMatchObject({ type: 'join', channel: 'lobby', userId: 'backend' });
    const here = await presence.hereNow({ channels: ['lobby'], includeState: true });
    expect(here.channels[0]!.occupants).toEqual([{ userId: 'backend', state: { role: 'bot' } }]);
    await until(() => watching.seen.some((e) => e.type === 'join'), 'the observer sees the join');
    await watching.watch.return();
    // Ending the participant's watch announces its leave: no ghost until its heartbeat runs out.
    await taking.watch.return();
    expect((await presence.hereNow({ channels: ['lobby'] })).channels[0]!.occupancy).toBe(0);
  });

  test('a participant with a heartbeat shorter than the long-poll hold stays present: it heartbeats every heartbeat/2 − 1 s (notes §4)', async () => {
    // The long-poll is held for a minute; only heartbeats can keep a 4 s presence alive meanwhile.
    const emulator = await emulatorWith({ subscribeHoldMs: 60_000 });
    const { presence: observer } = connect(emulator, 'observer');
    const { presence } = connect(emulator, 'svc');
    const watching = await startWatch(observer, { channels: ['desk'] });
    const taking = await startWatch(presence, { channels: ['desk'], participant: true, heartbeat: 4 });
    await until(() => watching.seen.length === 1, 'the join');
    for (let round = 0; round < 4; round += 1) {
      const beats = emulator.stats().requests.byOperation.heartbeat;
      await until(() => emulator.stats().requests.byOperation.heartbeat > beats, `heartbeat ${round + 1}`);
      clock += 2000; // 8 s of the emulator's clock in all: twice the presence timeout
      emulator.tick();
    }
    expect(watching.seen.map((e) => `${e.type} ${'userId' in e ? e.userId : ''}`)).toEqual(['join svc']);
    expect((await observer.hereNow({ channels: ['desk'] })).channels[0]!.occupancy).toBe(1);
    await taking.watch.return();
    await watching.watch.return();
  });

  test('a participant through a channel group joins its member channels and sees events with the group named', async () => {
    const emulator = await emulatorWith();
    const { presence } = connect(emulator, 'backend');
    await get(emulator, `/v1/channel-registration/sub-key/${SUB}/channel-group/staff?add=desk,door&uuid=admin`);
    const { watch, seen } = await startWatch(presence, { channelGroups: ['staff'], participant: true });
    await until(() => seen.length >= 2, 'its joins on both member channels');
    expect(seen.map((e) => [e.type, e.channel, 'userId' in e ? e.userId : '', 'group' in e ? e.group : ''])).toEqual([
      ['join', 'desk', 'backend', 'staff'],
      ['join', 'door', 'backend', 'staff'],
    ]);
    const here = await presence.hereNow({ channels: ['desk', 'door'] });
    expect(here.channels.map((c) => c.occupants.map((o) => o.userId))).toEqual([['backend'], ['backend']]);
    await watch.return();
    expect((await presence.hereNow({ channels: ['desk', 'door'] })).totalOccupancy).toBe(0);
  });

  test.each([
    ['with deltas', 30_000, false],
    ['with hereNowRefresh', 10, true],
  ] as const)('interval mode %s', async (_name, intervalDeltaMaxBytes, refresh) => {
    const emulator = await emulatorWith({ announceMax: 2, intervalSec: 1, intervalDeltaMaxBytes });
    const { presence } = connect(emulator);
    const { watch, seen } = await startWatch(presence, { channels: ['big'] });
    for (const userId of ['u1', 'u2', 'u3', 'u4', 'u5']) await presence.heartbeat({ channels: ['big'], userId, heartbeat: 60 });
    clock += 1500;
    expect(emulator.tick().intervals).toBeGreaterThanOrEqual(1);
    await until(() => seen.some((e) => e.type === 'interval'), 'an interval event');
    await watch.return();
    const interval = seen.find((e) => e.type === 'interval')!;
    expect(interval).toMatchObject({ type: 'interval', channel: 'big', occupancy: 5, hereNowRefresh: refresh });
    if (interval.type !== 'interval') throw new Error('not an interval');
    const perUser = seen.filter((e) => e.type === 'join').map((e) => (e as { userId: string }).userId);
    // The users announced one by one plus those in the interval's list are every joiner, once (or a refresh).
    if (refresh) expect(interval.joined).toEqual([]);
    else expect([...perUser, ...interval.joined].sort()).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
    expect(interval.left).toEqual([]);
    expect(interval.timedOut).toEqual([]);
  });

  test('faults in the middle of the long-poll (reset, 500, 429, hang, garbage): reconnects with no gap and no duplicate', async () => {
    const emulator = await emulatorWith();
    const { presence } = connect(emulator);
    const { presence: actor } = connect(emulator, 'actor');
    const reconnects: PresenceEventMap['watchReconnect'][] = [];
    presence.events.on('watchReconnect', (e) => reconnects.push(e));
    const { watch, seen, cursor, connects } = await startWatch(presence, { channels: ['lobby', 'hall'], timeoutMs: 1500, reconnect: { baseDelayMs: 20, maxDelayMs: 200 } });

    const garbage: FaultRule['response'] = { status: 200, body: '{"t":{"t":"1', headers: { 'content-type': 'text/javascript; charset="UTF-8"' } };
    const faults: FaultRule[] = [
      // Twice: a reset on a kept-alive socket is a stale connection, and the reconnect meets the second.
      { operation: 'subscribe', count: 2, response: 'reset' },
      { operation: 'subscribe', count: 1, response: '500' },
      { operation: 'subscribe', count: 1, response: '429', retryAfterSec: 0 },
      { operation: 'subscribe', count: 1, response: 'hang' },
      { operation: 'subscribe', count: 1, response: garbage },
    ];
    let n = 0;
    const churn = async (rounds: number) => {
      for (let i = 0; i < rounds; i++, n++) {
        const userId = `user-${n}`;
        await actor.heartbeat({ channels: ['lobby', 'hall'], userId, heartbeat: 60 });
        await actor.setPresenceState({ channels: ['lobby'], userId, state: { n } });
        if (n % 2 === 0) await actor.leave({ channels: ['hall'], userId });
      }
    };
    await churn(3);
    for (const fault of faults) {
      const before = connects.length;
      // The next long-poll fails while events keep coming; the watch must catch up on all of them.
      emulator.setFaults([fault]);
      await churn(3);
      await until(() => connects.length > before, `a reconnect after ${JSON.stringify(fault.response)}`);
      await churn(2);
    }
    emulator.setFaults([]);
    const truth = await published(emulator, 'lobby-pnpres,hall-pnpres', cursor);
    await until(() => seen.length >= truth.length, `${truth.length} events`);
    await new Promise((resolve) => setTimeout(resolve, 400)); // a duplicate would show up now
    await watch.return();

    expect(truth.length).toBeGreaterThan(80);
    expect(seen.map(summary)).toEqual(truth.map(summaryOf));
    expect(new Set(seen.map((e) => `${e.timetoken} ${e.channel}`)).size).toBe(seen.length);
    const reasons = reconnects.map((r) => r.reason);
    // Each reset is its own visible reconnect: stale_connection when it hit a pooled socket, network_error on a new one.
    expect(reasons.slice(0, 2).every((reason) => reason === 'stale_connection' || reason === 'network_error')).toBe(true);
    expect(reasons.slice(2)).toEqual(['server_error', 'rate_limited', 'timeout', 'protocol_error']);
    expect(connects).toEqual([false, true, true, true, true, true]);
  });

  test('connections cut while the long-poll is held (a TCP proxy resets them): no gap and no duplicate', async () => {
    const emulator = await emulatorWith({ subscribeHoldMs: 2000 });
    // A loopback proxy in front of the emulator, whose client-side sockets the test can reset at will.
    const sockets = new Set<Socket>();
    let refuse = 0;
    const proxy: Server = createServer((client) => {
      if (refuse > 0) {
        refuse--;
        client.resetAndDestroy();
        return;
      }
      const upstream = tcpConnect(emulator.port, '127.0.0.1');
      sockets.add(client);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        sockets.delete(client);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (proxy.address() as { port: number }).port;
      const transport = httpTransport({ origin: `http://127.0.0.1:${port}` });
      const presence = createPresence({ subscribeKey: SUB, userId: 'backend', transport });
      clients.push(presence);
      const { presence: actor } = connect(emulator, 'actor');
      const reconnects: PresenceEventMap['watchReconnect'][] = [];
      presence.events.on('watchReconnect', (e) => reconnects.push(e));
      const { watch, seen, cursor, connects } = await startWatch(presence, { channels: ['lobby'], reconnect: { baseDelayMs: 20, maxDelayMs: 100 } });
      for (let cut = 0; cut < 3; cut++) {
        await until(() => emulator.longPolls().total === 1, 'a held long-poll');
        await actor.heartbeat({ channels: ['lobby'], userId: `early-${cut}`, heartbeat: 60 });
        await until(() => emulator.longPolls().total === 1, 'the next held long-poll');
        // The watch's reconnect may meet a refused connection too (one more reconnect, never a gap).
        refuse = 1;
        for (const socket of sockets) socket.resetAndDestroy();
        // Events while the watch is away: it must come back for them.
        await actor.heartbeat({ channels: ['lobby'], userId: `away-${cut}`, heartbeat: 60 });
        await actor.leave({ channels: ['lobby'], userId: `early-${cut}` });
      }
      const truth = await published(emulator, 'lobby-pnpres', cursor);
      await until(() => seen.length >= truth.length, `${truth.length} events`);
      await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would show up now
      await watch.return();
      expect(truth.length).toBe(9);
      expect(seen.map(summary)).toEqual(truth.map(summaryOf));
      // One reconnect per cut (two if a refused connection met the reconnect itself); never a gap.
      expect(reconnects.length).toBeGreaterThanOrEqual(3);
      // A reset held long-poll is a closed kept-alive connection: reported as stale_connection or network_error.
      expect(reconnects.every((r) => r.reason === 'stale_connection' || r.reason === 'network_error')).toBe(true);
      expect(connects).toEqual([false, true, true, true]);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  test('the official SDK listener and watch() see the same events for the same churn', async () => {
    const emulator = await emulatorWith();
    const { presence } = connect(emulator);
    const { presence: actor } = connect(emulator, 'actor');
    const sdk = new PubNub({ origin: `127.0.0.1:${emulator.port}`, ssl: false, subscribeKey: SUB, userId: 'sdk-observer', logVerbosity: false });
    const sdkEvents: any[] = [];
    let sdkConnected!: () => void;
    const sdkReady = new Promise<void>((resolve) => (sdkConnected = resolve));
    sdk.addListener({
      presence: (e) => sdkEvents.push(e),
      status: (s) => {
        if (String(s.category) === 'PNConnectedCategory') sdkConnected();
      },
    });
    try {
      sdk.subscribe({ channels: ['room-pnpres'] });
      await sdkReady;
      const { watch, seen } = await startWatch(presence, { channels: ['room'] });
      for (let i = 0; i < 6; i++) await actor.heartbeat({ channels: ['room'], userId: `u${i}`, heartbeat: 5 });
      await actor.setPresenceState({ channels: ['room'], userId: 'u1', state: { mood: 'ok' } });
      await actor.leave({ channels: ['room'], userId: 'u2' });
      clock += 30_000;
      emulator.sweep();
      const expected = 6 + 1 + 1 + 5;
      await until(() => seen.length >= expected && sdkEvents.length >= expected, 'both to see the churn');
      await watch.return();
      const ours = seen.map((e) => ({ action: e.type, channel: e.channel, uuid: 'userId' in e ? e.userId : undefined, occupancy: e.occupancy, timetoken: e.timetoken, state: 'state' in e ? e.state : undefined }));
      const theirs = sdkEvents.map((e) => ({ action: ACTIONS[e.action], channel: e.channel, uuid: e.uuid, occupancy: e.occupancy, timetoken: e.timetoken, state: e.state }));
      expect(ours).toEqual(theirs);
      expect(ours.map((e) => e.action)).toEqual(['join', 'join', 'join', 'join', 'join', 'join', 'stateChange', 'leave', 'timeout', 'timeout', 'timeout', 'timeout', 'timeout']);
    } finally {
      sdk.unsubscribeAll();
      sdk.destroy();
    }
  });

  test.each(['break', 'signal'] as const)('%s during a held long-poll settles at once, closes its socket and leaves no timer', async (how) => {
    const emulator = await emulatorWith({ subscribeHoldMs: 120_000 });
    const { presence, transport } = connect(emulator);
    await presence.hereNow({ channels: ['warm-up'] }); // the keep-alive pool has its socket already
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const controller = new AbortController();
    const watch = presence.watch({ channels: ['lobby'], signal: controller.signal });
    const pending = watch.next();
    await until(() => emulator.longPolls().total === 1, 'the held long-poll');
    const started = performance.now();
    if (how === 'break') await watch.return();
    else controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(performance.now() - started).toBeLessThan(5000); // "at once", with room for a loaded machine
    await until(() => emulator.longPolls().total === 0, 'the emulator to see the socket close');
    await new Promise((resolve) => setImmediate(resolve));
    // At most as many as before (another may have ended meanwhile): the watch left none of its own.
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(timersBefore);
    expect(Object.values(transport.agent.sockets).flat()).toHaveLength(0);
  });

  test('a signed, authorised watch: every long-poll is signed like any call, and the emulator verifies it', async () => {
    const emulator = await emulatorWith({ secretKey: 'sec-watch', publishKey: 'pub-watch' });
    const transport = httpTransport({ origin: emulator.origin });
    const presence = createPresence({ subscribeKey: SUB, publishKey: 'pub-watch', secretKey: 'sec-watch', authKey: 'auth-watch', userId: 'backend', transport });
    clients.push(presence);
    const { watch, seen } = await startWatch(presence, { channels: ['lobby'] });
    await presence.heartbeat({ channels: ['lobby'], userId: 'alice' });
    await until(() => seen.length === 1, 'the join');
    await watch.return();
    expect(seen[0]).toMatchObject({ type: 'join', userId: 'alice' });
    expect(emulator.stats().signatureFailures).toBe(0);
    expect(emulator.stats().requests.byOperation.subscribe).toBeGreaterThanOrEqual(2);
  });

  test('a 403 mid-watch ends the iteration with the typed error', async () => {
    const emulator = await emulatorWith();
    const { presence } = connect(emulator);
    const { watch, done } = await startWatch(presence, { channels: ['lobby'] });
    emulator.setFaults([{ operation: 'subscribe', count: 1, response: '403' }]);
    await presence.heartbeat({ channels: ['lobby'], userId: 'someone' });
    await expect(done).rejects.toMatchObject({ code: 'api_error', status: 403, operation: 'subscribe' });
    expect(await watch.next()).toEqual({ done: true, value: undefined });
  });
});

describe('here-now paging against the emulator', () => {
  test('2,500 occupants of one channel come back complete, each exactly once', async () => {
    const emulator = await emulatorWith();
    const { presence } = connect(emulator);
    const everyone = Array.from({ length: 2500 }, (_, i) => `user-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < everyone.length; i += 50) {
      await Promise.all(everyone.slice(i, i + 50).map((userId) => presence.heartbeat({ channels: ['stadium'], userId, heartbeat: 300 })));
    }
    const pages = [];
    for await (const page of presence.hereNowPages({ channel: 'stadium', pageSize: 1000 })) pages.push(page);
    expect(pages.map((p) => [p.offset, p.channels[0]!.occupants.length, p.hasMore])).toEqual([[0, 1000, true], [1000, 1000, true], [2000, 500, false]]);
    expect(pages.every((p) => p.channels[0]!.occupancy === 2500)).toBe(true);
    const ids = pages.flatMap((p) => p.channels[0]!.occupants.map((o) => o.userId));
    expect(ids).toHaveLength(2500);
    expect([...new Set(ids)].sort()).toEqual(everyone);

    const all = await presence.hereNowAll({ channels: ['stadium', 'empty'] });
    expect(all.totalOccupancy).toBe(2500);
    expect(all.channels.map((c) => [c.name, c.occupancy, c.occupants.length])).toEqual([['stadium', 2500, 2500], ['empty', 0, 0]]);
  });

  test('through a channel group: every member channel comes back complete, each occupant exactly once', async () => {
    const emulator = await emulatorWith();
    const { presence } = connect(emulator);
    await get(emulator, `/v1/channel-registration/sub-key/${SUB}/channel-group/arena?add=north,south&uuid=admin`);
    const north = Array.from({ length: 1200 }, (_, i) => `n-${i}`);
    const south = Array.from({ length: 30 }, (_, i) => `s-${i}`);
    for (const [channel, ids] of [['north', north], ['south', south]] as const) {
      for (let i = 0; i < ids.length; i += 50) {
        await Promise.all(ids.slice(i, i + 50).map((userId) => presence.heartbeat({ channels: [channel], userId, heartbeat: 300 })));
      }
    }
    const pages = [];
    for await (const page of presence.hereNowPages({ channelGroups: ['arena'], pageSize: 500 })) pages.push(page);
    expect(pages.map((p) => [p.offset, p.hasMore, p.channels.map((c) => `${c.name}:${c.occupants.length}/${c.occupancy}`)])).toEqual([
      [0, true, ['north:500/1200', 'south:30/30']],
      [500, true, ['north:500/1200']],
      [1000, false, ['north:200/1200']],
    ]);
    const all = await presence.hereNowAll({ channelGroups: ['arena'], pageSize: 500 });
    expect(all.channels.map((c) => [c.name, [...new Set(c.occupants.map((o) => o.userId))].sort()])).toEqual([
      ['north', [...north].sort()],
      ['south', [...south].sort()],
    ]);
  });
});
