/**
 * The subscribe long-poll and presence events over real loopback HTTP, checked against the recorded
 * bodies (notes §4: `subscribe_presence_*.json`). A fake clock drives timeouts and intervals; long-polls
 * are released by events, never by waiting for wall-clock time (except one short hold-expiry case).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call as callPort, until, type Answer, type CallInit } from '../test/loopback.js';
import { createEmulator, type Emulator, type EmulatorOptions } from './create-emulator.js';

const call = (target: Emulator, path: string, init?: CallInit): Promise<Answer> => callPort(target.port, path, init);

const SUB = 'demo';
const P = `/v2/presence/sub-key/${SUB}`;
const S = `/v2/subscribe/${SUB}`;
const enc = encodeURIComponent;

let clock = 1_757_969_434_794;
let emulator: Emulator;
const extra: Emulator[] = [];

async function another(options: EmulatorOptions): Promise<Emulator> {
  const e = await createEmulator({ now: () => clock, sweepIntervalMs: 0, ...options });
  extra.push(e);
  return e;
}

/** Wait until the emulator holds `n` long-polls. */
function heldPolls(target: Emulator, n: number): Promise<void> {
  return until(() => `${n} held long-polls, have ${target.longPolls().total}: ${JSON.stringify(target.stats())}`, () => target.longPolls().total >= n);
}

async function handshake(path: string, target = emulator): Promise<string> {
  const answer = await call(target, path);
  expect(answer.status).toBe(200);
  return answer.json.t.t as string;
}

/** Start a long-poll and wait until it is held; `answer` settles when the emulator answers it. */
async function poll(path: string, target = emulator): Promise<{ answer: Promise<Answer> }> {
  const before = target.longPolls().total;
  const answer = call(target, path);
  await heldPolls(target, before + 1);
  return { answer };
}

beforeAll(async () => {
  emulator = await createEmulator({ now: () => clock, sweepIntervalMs: 0, subscribeHoldMs: 60_000 });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => emulator.reset());
afterEach(async () => {
  for (const e of extra.splice(0)) await e.close();
});

describe('options', () => {
  it('rejects unusable subscribe options with a RangeError naming the option', async () => {
    await expect(createEmulator({ subscribeHoldMs: 0 })).rejects.toThrow(/subscribeHoldMs must be a number from 1 to 2147483647, got 0/);
    await expect(createEmulator({ subscribeHoldMs: 3_000_000_000 })).rejects.toThrow(RangeError);
    await expect(createEmulator({ announceMax: 1.5 })).rejects.toThrow(/announceMax must be an integer/);
    await expect(createEmulator({ intervalSec: 0 })).rejects.toThrow(/intervalSec/);
    await expect(createEmulator({ intervalDeltaMaxBytes: -1 })).rejects.toThrow(/intervalDeltaMaxBytes/);
    await expect(createEmulator({ catchUpBufferSize: Number.NaN })).rejects.toThrow(/catchUpBufferSize/);
    await expect(createEmulator({ catchUpMaxAgeMs: -5 })).rejects.toThrow(/catchUpMaxAgeMs/);
  });
});

describe('handshake', () => {
  it('answers tt=0 at once with a 17-digit string timetoken, a region and no messages, as text/javascript', async () => {
    const answer = await call(emulator, `${S}/room-pnpres/0?ee=&uuid=watcher`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/javascript; charset="UTF-8"');
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(Object.keys(answer.json)).toEqual(['t', 'm']);
    expect(answer.json.m).toEqual([]);
    expect(answer.json.t).toEqual({ t: expect.stringMatching(/^\d{17}$/), r: expect.any(Number) });
    expect(Number.isInteger(answer.json.t.r)).toBe(true);
    // The timetoken is the clock in 100 ns units.
    expect(BigInt(answer.json.t.t) / 10_000n).toBe(BigInt(clock));
    // An absent tt (or one written 00) is a handshake too, and timetokens strictly increase even on a clock that stands still.
    const second = await call(emulator, `${S}/room-pnpres/0?uuid=watcher`);
    expect(BigInt(second.json.t.t)).toBeGreaterThan(BigInt(answer.json.t.t));
    const third = await call(emulator, `${S}/room-pnpres/0?tt=00&uuid=watcher`);
    expect([third.json.m, BigInt(third.json.t.t) > BigInt(second.json.t.t)]).toEqual([[], true]);
    expect(emulator.stats().subscribe.handshakes).toBe(3);
  });

  it('applies the handshake state (keyed by channel) so get-state reads it, and joins the uuid', async () => {
    await handshake(`${S}/room,room-pnpres/0?ee=&state=${enc(JSON.stringify({ room: { mood: 'pre' } }))}&uuid=alice`);
    const state = await call(emulator, `${P}/channel/room/uuid/alice`);
    expect(state.json).toEqual({ status: 200, message: 'OK', payload: { mood: 'pre' }, uuid: 'alice', channel: 'room', service: 'Presence' });
    const here = await call(emulator, `${P}/channel/room`);
    expect(here.json).toMatchObject({ occupancy: 1, uuids: ['alice'] });
  });

  it('a subscribe to -pnpres names only does not make the uuid present', async () => {
    await handshake(`${S}/room-pnpres/0?uuid=observer`);
    const here = await call(emulator, `${P}/channel/room`);
    expect(here.json).toMatchObject({ occupancy: 0, uuids: [] });
    expect((await call(emulator, `${P}/uuid/observer`)).json.payload.channels).toEqual([]);
  });
});

describe('long-poll and presence events', () => {
  it('holds the poll until a join, then answers with the recorded envelope shape', async () => {
    const tt = await handshake(`${S}/room-pnpres/0?uuid=watcher`);
    const pending = await poll(`${S}/room-pnpres/0?ee=&tt=${tt}&tr=1&uuid=watcher`);
    await call(emulator, `${P}/channel/room/heartbeat?heartbeat=60&uuid=david`);
    const answer = await pending.answer;
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/javascript; charset="UTF-8"');
    const { t, m } = answer.json;
    expect(m).toHaveLength(1);
    const envelope = m[0];
    // Field names, order-independent, as in subscribe_presence_join.json.
    expect(Object.keys(envelope).sort()).toEqual(['a', 'b', 'c', 'd', 'f', 'k', 'p', 'u']);
    expect(envelope).toMatchObject({ a: expect.any(String), f: 0, k: SUB, c: 'room-pnpres', b: 'room-pnpres' });
    expect(envelope.p).toEqual({ t: expect.stringMatching(/^\d{17}$/), r: expect.any(Number) });
    expect(envelope.d).toEqual({
      action: 'join',
      uuid: 'david',
      timestamp: Math.floor(clock / 1000),
      precise_timestamp: clock,
      occupancy: 1,
    });
    expect(envelope.u).toEqual({
      pn_action: 'join',
      pn_channel: 'room',
      pn_ispresence: 1,
      pn_occupancy: 1,
      pn_precise_timestamp: clock,
      pn_timestamp: Math.floor(clock / 1000),
      pn_uuid: 'david',
    });
    // The next cursor is the event's timetoken, and it is later than the one the poll came with.
    expect(t.t).toBe(envelope.p.t);
    expect(BigInt(t.t)).toBeGreaterThan(BigInt(tt));
  });

  it('delivers join, state-change, leave and timeout in order, each with its fields', async () => {
    const tt0 = await handshake(`${S}/room-pnpres/0?uuid=watcher`);
    await call(emulator, `${P}/channel/room/heartbeat?heartbeat=10&uuid=alice`);
    await call(emulator, `${P}/channel/room/heartbeat?heartbeat=60&uuid=bob`);
    await call(emulator, `${P}/channel/room/uuid/alice/data?state=${enc('{"mood":"ok","n":1}')}&uuid=alice`);
    await call(emulator, `${P}/channel/room/leave?uuid=bob`);
    clock += 10_001;
    expect(emulator.tick().timedOut).toBe(1);
    // Catch-up: everything since the handshake cursor, oldest first.
    const answer = await call(emulator, `${S}/room-pnpres/0?tt=${tt0}&uuid=watcher`);
    const events = answer.json.m.map((e: any) => e.d);
    expect(events.map((d: any) => [d.action, d.uuid, d.occupancy])).toEqual([
      ['join', 'alice', 1],
      ['join', 'bob', 2],
      ['state-change', 'alice', 2],
      ['leave', 'bob', 1],
      ['timeout', 'alice', 0],
    ]);
    expect(events[2].data).toEqual({ mood: 'ok', n: 1 });
    for (const d of events) {
      expect(Number.isInteger(d.timestamp)).toBe(true);
      expect(Number.isInteger(d.precise_timestamp)).toBe(true);
      expect(Number.isInteger(d.occupancy)).toBe(true);
    }
    expect(events[4].timestamp).toBe(Math.floor(clock / 1000));
    const tts = answer.json.m.map((e: any) => BigInt(e.p.t));
    for (let i = 1; i < tts.length; i += 1) expect(tts[i]).toBeGreaterThan(tts[i - 1]);
    expect(answer.json.t.t).toBe(answer.json.m[4].p.t);
  });

  it('channel groups: b is <group>-pnpres and c the real <channel>-pnpres', async () => {
    await call(emulator, `/v1/channel-registration/sub-key/${SUB}/channel-group/cg1?add=room,hall`);
    const tt = await handshake(`${S}/,/0?channel-group=cg1-pnpres&uuid=watcher`);
    const pending = await poll(`${S}/,/0?channel-group=cg1-pnpres&tt=${tt}&uuid=watcher`);
    await call(emulator, `${P}/channel/hall/heartbeat?heartbeat=60&uuid=carol`);
    const answer = await pending.answer;
    expect(answer.json.m).toHaveLength(1);
    expect(answer.json.m[0]).toMatchObject({ c: 'hall-pnpres', b: 'cg1-pnpres', d: { action: 'join', uuid: 'carol', occupancy: 1 } });
  });

  it('a subscribe to a real channel is a heartbeat: join, heartbeat= sets the timeout, a later subscribe refreshes it', async () => {
    const tt = await handshake(`${S}/room-pnpres/0?uuid=watcher`);
    await handshake(`${S}/room,room-pnpres/0?heartbeat=20&uuid=erin`);
    clock += 15_000;
    // A receive (tt>0) counts too; it is answered at once because erin's own join is already waiting.
    const own = await call(emulator, `${S}/room,room-pnpres/0?tt=${tt}&uuid=erin`);
    expect(own.json.m.map((e: any) => e.d.action)).toEqual(['join']);
    clock += 15_000;
    expect(emulator.tick().timedOut).toBe(0);
    clock += 5_001;
    expect(emulator.tick().timedOut).toBe(1);
    const answer = await call(emulator, `${S}/room-pnpres/0?tt=${tt}&uuid=watcher`);
    expect(answer.json.m.map((e: any) => [e.d.action, e.d.uuid])).toEqual([
      ['join', 'erin'],
      ['timeout', 'erin'],
    ]);
  });

  it('a subscribe that drops a channel leaves it, with a leave event', async () => {
    const tt = await handshake(`${S}/a-pnpres,b-pnpres/0?uuid=watcher`);
    await handshake(`${S}/a,b/0?uuid=frank`);
    await handshake(`${S}/b/0?uuid=frank`);
    const answer = await call(emulator, `${S}/a-pnpres,b-pnpres/0?tt=${tt}&uuid=watcher`);
    expect(answer.json.m.map((e: any) => [e.c, e.d.action, e.d.occupancy])).toEqual([
      ['a-pnpres', 'join', 1],
      ['b-pnpres', 'join', 1],
      ['a-pnpres', 'leave', 0],
    ]);
  });

  it('two subscribe loops of one uuid on other channels do not make each other leave (notes §8: one uuid, several devices)', async () => {
    const tt = await handshake(`${S}/lobby-pnpres,room-pnpres/0?uuid=watcher`);
    // One client, two loops (two participant watches): each keeps polling its own channels.
    await handshake(`${S}/lobby/0?uuid=svc`);
    await handshake(`${S}/room,hall/0?uuid=svc`);
    await handshake(`${S}/lobby/0?uuid=svc`);
    await handshake(`${S}/room,hall/0?uuid=svc`);
    // The second loop then drops hall: that one is a leave.
    await handshake(`${S}/room/0?uuid=svc`);
    await handshake(`${S}/lobby/0?uuid=svc`);
    expect(emulator.stats().presence).toMatchObject({ occupancy: 2 });
    const answer = await call(emulator, `${S}/lobby-pnpres,room-pnpres,hall-pnpres/0?tt=${tt}&uuid=watcher`);
    expect(answer.json.m.map((e: any) => [e.c, e.d.action, e.d.uuid])).toEqual([
      ['lobby-pnpres', 'join', 'svc'],
      ['room-pnpres', 'join', 'svc'],
      ['hall-pnpres', 'join', 'svc'],
      ['hall-pnpres', 'leave', 'svc'],
    ]);
  });

  it('two loops of one uuid on overlapping channels (one a subset of the other) are told apart by their cursors', async () => {
    const quick = await another({ subscribeHoldMs: 20 });
    const tt = await handshake(`${S}/lobby-pnpres,room-pnpres/0?uuid=watcher`, quick);
    // Loop A watches lobby, loop B lobby and room; each polls from the cursor its own last answer gave it.
    let a = await handshake(`${S}/lobby,lobby-pnpres/0?uuid=svc`, quick);
    let b = await handshake(`${S}/lobby,room,lobby-pnpres,room-pnpres/0?uuid=svc`, quick);
    for (let round = 0; round < 3; round += 1) {
      a = (await call(quick, `${S}/lobby,lobby-pnpres/0?tt=${a}&uuid=svc`)).json.t.t;
      b = (await call(quick, `${S}/lobby,room,lobby-pnpres,room-pnpres/0?tt=${b}&uuid=svc`)).json.t.t;
    }
    // Loop B then unsubscribes from room (no leave call): its next poll, from its cursor, drops room.
    await call(quick, `${S}/lobby,lobby-pnpres/0?tt=${b}&uuid=svc`);
    const answer = await call(quick, `${S}/lobby-pnpres,room-pnpres/0?tt=${tt}&uuid=watcher`);
    expect(answer.json.m.map((e: any) => [e.c, e.d.action, e.d.uuid])).toEqual([
      ['lobby-pnpres', 'join', 'svc'],
      ['room-pnpres', 'join', 'svc'],
      ['room-pnpres', 'leave', 'svc'],
    ]);
  });

  it('answers an idle poll empty with a fresh, later timetoken after subscribeHoldMs', async () => {
    const quick = await another({ subscribeHoldMs: 150 });
    const tt = await handshake(`${S}/room-pnpres/0?uuid=watcher`, quick);
    const answer = await call(quick, `${S}/room-pnpres/0?tt=${tt}&uuid=watcher`);
    expect(answer.json.m).toEqual([]);
    expect(BigInt(answer.json.t.t)).toBeGreaterThan(BigInt(tt));
    expect(quick.stats().subscribe.releasedEmpty).toBe(1);
  });

  it('close() answers every held long-poll and resolves promptly', async () => {
    const target = await another({ subscribeHoldMs: 280_000 });
    const tt = await handshake(`${S}/room-pnpres/0?uuid=w`, target);
    const pending = [1, 2, 3].map(() => call(target, `${S}/room-pnpres/0?tt=${tt}&uuid=w`));
    await heldPolls(target, 3);
    expect(target.longPolls()).toEqual({ total: 3, channels: { 'room-pnpres': 3 }, channelGroups: {} });
    await target.close();
    for (const answer of await Promise.all(pending)) {
      expect(answer.status).toBe(200);
      expect(answer.json.m).toEqual([]);
    }
  });
});

describe('catch-up by timetoken', () => {
  it('a subscriber that comes back with its last tt gets what it missed, in order, 100 per answer', async () => {
    // announceMax is raised so 60 users stay in per-user mode.
    const target = await another({ announceMax: 1000, catchUpBufferSize: 200, subscribeHoldMs: 60_000 });
    const tt = await handshake(`${S}/busy-pnpres/0?uuid=watcher`, target);
    for (let i = 0; i < 60; i += 1) await call(target, `${P}/channel/busy/heartbeat?heartbeat=60&uuid=u${i}`);
    for (let i = 0; i < 60; i += 1) await call(target, `${P}/channel/busy/leave?uuid=u${i}`);
    const first = await call(target, `${S}/busy-pnpres/0?tt=${tt}&uuid=watcher`);
    expect(first.json.m).toHaveLength(100);
    expect(first.json.t.t).toBe(first.json.m[99].p.t);
    const rest = await call(target, `${S}/busy-pnpres/0?tt=${first.json.t.t}&uuid=watcher`);
    expect(rest.json.m).toHaveLength(20);
    const all = [...first.json.m, ...rest.json.m].map((e: any) => `${e.d.action}:${e.d.uuid}:${e.d.occupancy}`);
    expect(all).toEqual([
      ...Array.from({ length: 60 }, (_, i) => `join:u${i}:${i + 1}`),
      ...Array.from({ length: 60 }, (_, i) => `leave:u${i}:${59 - i}`),
    ]);
    expect(target.stats().subscribe.catchUpTruncated).toBe(0);
  });

  it('catchUpBufferSize bounds the buffer and a too-old tt gets what is left, in order', async () => {
    const small = await another({ catchUpBufferSize: 3, subscribeHoldMs: 60_000 });
    const tt = await handshake(`${S}/c-pnpres/0?uuid=w`, small);
    for (const uuid of ['a', 'b', 'c', 'd', 'e']) await call(small, `${P}/channel/c/heartbeat?uuid=${uuid}`);
    const answer = await call(small, `${S}/c-pnpres/0?tt=${tt}&uuid=w`);
    expect(answer.json.m.map((e: any) => e.d.uuid)).toEqual(['c', 'd', 'e']);
    expect(small.stats().subscribe).toMatchObject({ catchUpTruncated: 1, eventsBuffered: 3, eventsPublished: 5 });
  });
});

describe('interval mode over the wire', () => {
  it('above announceMax, one interval event per intervalSec with the deltas; here_now_refresh when they are too big', async () => {
    const crowded = await another({ announceMax: 2, intervalSec: 5, subscribeHoldMs: 60_000 });
    const tt = await handshake(`${S}/hall-pnpres/0?uuid=w`, crowded);
    for (const uuid of ['a', 'b', 'c', 'd']) await call(crowded, `${P}/channel/hall/heartbeat?uuid=${uuid}`);
    clock += 5_000;
    expect(crowded.tick()).toEqual({ timedOut: 0, intervals: 1 });
    const answer = await call(crowded, `${S}/hall-pnpres/0?tt=${tt}&uuid=w`);
    expect(answer.json.m.map((e: any) => e.d)).toEqual([
      expect.objectContaining({ action: 'join', uuid: 'a', occupancy: 1 }),
      expect.objectContaining({ action: 'join', uuid: 'b', occupancy: 2 }),
      { action: 'interval', timestamp: Math.floor(clock / 1000), occupancy: 4, join: ['c', 'd'] },
    ]);
    expect(answer.json.m[2]).toMatchObject({ c: 'hall-pnpres', b: 'hall-pnpres', u: { pn_action: 'interval', pn_join: ['c', 'd'] } });
  });
});

describe('admin API', () => {
  it('publishes an arbitrary presence event to waiting subscribers, lists open long-polls and counts subscribes', async () => {
    await call(emulator, `/v1/channel-registration/sub-key/${SUB}/channel-group/cg9?add=x`);
    const tt = await handshake(`${S}/room,room-pnpres/0?uuid=w`);
    // The first receive gets w's own join at once; the held poll starts from its cursor.
    const own = await call(emulator, `${S}/room,room-pnpres/0?tt=${tt}&uuid=w`);
    expect(own.json.m.map((e: any) => e.d.action)).toEqual(['join']);
    // w2's own join on x (a member of cg9) answers its first receive at once; hold the next one.
    const ownViaGroup = await call(emulator, `${S}/,/0?channel-group=cg9,cg9-pnpres&tt=${own.json.t.t}&uuid=w2`);
    expect(ownViaGroup.json.m.map((e: any) => [e.c, e.b, e.d.uuid])).toEqual([['x-pnpres', 'cg9-pnpres', 'w2']]);
    const groupHeld = await poll(`${S}/,/0?channel-group=cg9,cg9-pnpres&tt=${ownViaGroup.json.t.t}&uuid=w2`);
    const held = await poll(`${S}/room,room-pnpres/0?tt=${own.json.t.t}&uuid=w`);
    const listed = await call(emulator, '/__emulator/long-polls');
    expect(listed.json).toEqual({ total: 2, channels: { room: 1, 'room-pnpres': 1 }, channelGroups: { cg9: 1, 'cg9-pnpres': 1 } });

    const event = { action: 'interval', timestamp: 1_720_033_913, occupancy: 0, here_now_refresh: true };
    const published = await call(emulator, '/__emulator/presence-events', {
      method: 'POST',
      body: JSON.stringify({ subscribeKey: SUB, channel: 'room-pnpres', event }),
    });
    expect(published.json).toEqual({ ok: true, timetoken: expect.stringMatching(/^\d{17}$/) });
    const answer = await held.answer;
    expect(answer.json.m).toHaveLength(1);
    expect(answer.json.m[0]).toEqual({ a: '5', f: 0, p: { t: published.json.timetoken, r: 1 }, k: SUB, c: 'room-pnpres', d: event, b: 'room-pnpres' });
    // Programmatic form, on a group member channel.
    const tt2 = emulator.publishPresenceEvent({ subscribeKey: SUB, channel: 'x', event: { action: 'join', uuid: 'z', timestamp: 1, occupancy: 1 } });
    expect((await groupHeld.answer).json.m[0]).toMatchObject({ c: 'x-pnpres', b: 'cg9-pnpres', p: { t: tt2 } });

    const bad = await call(emulator, '/__emulator/presence-events', { method: 'POST', body: JSON.stringify({ subscribeKey: SUB, channel: 'room', event: [] }) });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/event must be a JSON object/);
    expect(() => emulator.publishPresenceEvent({ subscribeKey: '', channel: 'c', event: {} })).toThrow(/subscribeKey/);

    const stats = (await call(emulator, '/__emulator/stats')).json;
    expect(stats.requests.byOperation.subscribe).toBe(5);
    expect(stats.subscribe).toMatchObject({ openLongPolls: 0, handshakes: 1, releasedWithEvents: 4, eventsDelivered: 4 });
  });

  it('reset() answers held polls empty and clears the buffers', async () => {
    const tt = await handshake(`${S}/r-pnpres/0?uuid=w`);
    await call(emulator, `${P}/channel/r/heartbeat?uuid=a`);
    const held = await poll(`${S}/q-pnpres/0?tt=${tt}&uuid=w`);
    expect(emulator.stats().subscribe.eventsBuffered).toBe(1);
    await call(emulator, '/__emulator/reset', { method: 'POST' });
    expect((await held.answer).json.m).toEqual([]);
    expect(emulator.stats().subscribe.eventsBuffered).toBe(0);
    // a's join is gone from the buffer: a poll from the old cursor is now held, not answered.
    const again = await poll(`${S}/r-pnpres/0?tt=${tt}&uuid=w`);
    emulator.reset();
    expect((await again.answer).json.m).toEqual([]);
  });
});

describe('bad subscribe requests get the notes\' bodies, and the emulator keeps serving', () => {
  it('bad tt, bad state JSON, unknown group, no channels, empty sub key, over-long URL', async () => {
    const badTt = await call(emulator, `${S}/room/0?tt=abc&uuid=w`);
    expect([badTt.status, badTt.text]).toEqual([400, '{"message":"Could Not Parse Request","error":true,"service":"Access Manager","status":400}']);
    expect(badTt.headers['content-type']).toBe('text/javascript; charset="UTF-8"');
    const badState = await call(emulator, `${S}/room/0?state=${enc('{nope')}&uuid=w`);
    expect([badState.status, badState.text]).toEqual([400, '{"status": 400, "error": 1, "message": "Invalid JSON specified.", "service": "Presence"}']);
    const arrayState = await call(emulator, `${S}/room/0?state=${enc('[1]')}&uuid=w`);
    expect(arrayState.status).toBe(400);
    const unknownGroup = await call(emulator, `${S}/,/0?channel-group=nobody,nobody-pnpres&uuid=w`);
    expect([unknownGroup.status, unknownGroup.json]).toEqual([
      400,
      { status: 400, service: 'PubSub', error: true, message: 'Channel group or groups result in empty subscription set' },
    ]);
    expect((await call(emulator, `${S}/,/0?uuid=w`)).status).toBe(400);
    expect((await call(emulator, `/v2/subscribe//room/0?uuid=w`)).json).toMatchObject({ message: 'Invalid Subscribe Key', status: 400 });
    const long = await call(emulator, `${S}/room/0?state=${'x'.repeat(33 * 1024)}&uuid=w`);
    expect([long.status, long.text]).toEqual([414, '{"message":"Request URI Too Long","error":true,"service":"Balancer","status":414}']);
    // None of them made anyone present, and the emulator still answers.
    expect((await call(emulator, `${P}/channel/room`)).json).toMatchObject({ occupancy: 0 });
    expect((await call(emulator, `${S}/room/0?uuid=w`)).status).toBe(200);
  });
});

describe('faults, latency and signatures apply to subscribe', () => {
  it('an injected error answers the subscribe; a hang holds it until close(); latency delays the handshake', async () => {
    const target = await another({ subscribeHoldMs: 60_000 });
    target.setFaults([{ operation: 'subscribe', count: 1, response: '503' }]);
    const failed = await call(target, `${S}/room/0?uuid=w`);
    expect([failed.status, failed.json]).toEqual([503, { status: 503, message: 'Service Unavailable', error: 1, service: 'Presence' }]);
    target.setFaults([{ operation: 'subscribe', channel: 'stuck', response: 'hang' }]);
    const hung = call(target, `${S}/stuck/0?uuid=w`).then(() => 'answered', () => 'cut');
    target.setLatency(50);
    expect((await call(target, `${S}/room/0?uuid=w`)).status).toBe(200);
    expect(target.stats().faultsInjected).toBe(2);
    await target.close();
    expect(await hung).toBe('cut');
  });

  it('with a secret key, unsigned subscribes get the 403 body', async () => {
    const signed = await another({ secretKey: 'sec-c-x', publishKey: 'pub-c-x' });
    const answer = await call(signed, `${S}/room/0?uuid=w`);
    expect(answer.status).toBe(403);
    expect(answer.json).toMatchObject({ error: { message: 'Invalid signature' }, status: 403 });
    expect(signed.stats().signatureFailures).toBe(1);
  });
});

describe('many long-polls', () => {
  it('holds 500 concurrent long-polls and releases them all with one event, memory bounded', async () => {
    const target = await another({ subscribeHoldMs: 120_000 });
    const tt = await handshake(`${S}/crowd-pnpres/0?uuid=w`, target);
    const rssBefore = process.memoryUsage().rss;
    const pending = Array.from({ length: 500 }, (_, i) => call(target, `${S}/crowd-pnpres/0?tt=${tt}&uuid=w${i}`, { timeoutMs: 60_000 }));
    await heldPolls(target, 500);
    expect(target.longPolls().channels['crowd-pnpres']).toBe(500);
    const rssHeld = process.memoryUsage().rss;
    await call(target, `${P}/channel/crowd/heartbeat?uuid=alice`);
    const answers = await Promise.all(pending);
    expect(answers.every((a) => a.status === 200 && a.json.m.length === 1 && a.json.m[0].d.uuid === 'alice')).toBe(true);
    expect(target.longPolls().total).toBe(0);
    expect(target.stats().subscribe).toMatchObject({ openLongPolls: 0, releasedWithEvents: 500, eventsDelivered: 500 });
    // Generous bound: 500 sockets on both ends (client and server share this process) stay well under 200 MB.
    expect(rssHeld - rssBefore).toBeLessThan(200 * 1024 * 1024);
  }, 90_000);
});
