/**
 * The subscribe long-poll and presence events over real loopback HTTP, checked against the recorded
 * bodies (notes §4: `subscribe_presence_*.json`). A fake clock drives timeouts and intervals; long-polls
 * are released by events, never by waiting for wall-clock time (except one short hold-expiry case).
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator, type EmulatorOptions } from './create-emulator.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

/** One request on its own socket (long-polls must not queue behind each other). */
function call(target: Emulator, path: string, init: { method?: string; body?: string; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: target.port, path, method: init.method ?? 'GET', agent: false, timeout: init.timeoutMs ?? 15_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`client timeout on ${path}`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

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

/** Wait until the emulator holds `n` long-polls (polling the admin view, never a fixed sleep). */
async function heldPolls(target: Emulator, n: number): Promise<void> {
  for (let i = 0; i < 2000; i += 1) {
    if (target.longPolls().total >= n) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`expected ${n} held long-polls, have ${target.longPolls().total}: ${JSON.stringify(target.stats())}`);
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
    // An absent tt is a handshake too, and timetokens strictly increase even on a clock that stands still.
    const second = await call(emulator, `${S}/room-pnpres/0?uuid=watcher`);
    expect(BigInt(second.json.t.t)).toBeGreaterThan(BigInt(answer.json.t.t));
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
