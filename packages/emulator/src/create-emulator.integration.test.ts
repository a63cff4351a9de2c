/** The emulator over real loopback HTTP: wire forms, bad requests, admin API, faults, cache, timeouts. */
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call as callPort, type Answer } from '../test/loopback.js';
import { createEmulator, type Emulator, type EmulatorOptions } from './create-emulator.js';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function call(emulator: Emulator, path: string, init: { method?: string; body?: string; timeoutMs?: number } = {}): Promise<Answer> {
  return callPort(emulator.port, path, { timeoutMs: 5000, ...init, agent });
}

/** Send raw bytes (for requests no HTTP client would produce) and collect the reply until close. */
function raw(emulator: Emulator, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(emulator.port, '127.0.0.1', () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

const P = '/v2/presence/sub-key/demo';
const hb = (channels: string, uuid: string, extra = '') => `${P}/channel/${channels}/heartbeat?heartbeat=300&uuid=${uuid}${extra}`;

let clock = 1_700_000_000_000;
let emulator: Emulator;
const extra: Emulator[] = [];

async function another(options: EmulatorOptions): Promise<Emulator> {
  const e = await createEmulator({ sweepIntervalMs: 0, ...options });
  extra.push(e);
  return e;
}

beforeAll(async () => {
  emulator = await createEmulator({ now: () => clock, sweepIntervalMs: 0 });
});
afterAll(async () => {
  await emulator.close();
  agent.destroy();
});
beforeEach(() => emulator.reset());
afterEach(async () => {
  await Promise.all(extra.splice(0).map((e) => e.close()));
});

describe('wire forms (notes §3)', () => {
  it('answers here-now single form with the real headers and body', async () => {
    await call(emulator, hb('c1', 'Kim'));
    await call(emulator, hb('c1', 'Earline'));
    const a = await call(emulator, `${P}/channel/c1?limit=1000&uuid=me`);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('text/javascript; charset="UTF-8"');
    expect(a.headers['access-control-allow-origin']).toBe('*');
    expect(a.headers['access-control-allow-methods']).toBe('OPTIONS, GET, POST');
    expect(a.text).toBe('{"message":"OK","occupancy":2,"service":"Presence","status":200,"uuids":["Kim","Earline"]}');
    expect((await call(emulator, `${P}/channel/c1?disable_uuids=1`)).text).toBe('{"message":"OK","occupancy":2,"service":"Presence","status":200}');
    expect((await call(emulator, `${P}/channel/nobody`)).json).toEqual({ message: 'OK', occupancy: 0, service: 'Presence', status: 200, uuids: [] });
  });

  it('answers here-now multi, group and global forms', async () => {
    await call(emulator, hb('c1', 'Kim'));
    await call(emulator, hb('c2', 'Glen', '&state=%7B%22c2%22%3A%7B%22a%22%3A1%7D%7D'));
    expect((await call(emulator, `${P}/channel/c1,c2,c3?state=1`)).text).toBe(
      '{"message":"OK","payload":{"channels":{"c1":{"occupancy":1,"uuids":[{"uuid":"Kim"}]},"c2":{"occupancy":1,"uuids":[{"state":{"a":1},"uuid":"Glen"}]}},"total_channels":2,"total_occupancy":2},"service":"Presence","status":200}',
    );
    await call(emulator, '/v1/channel-registration/sub-key/demo/channel-group/cg?add=c2,c1');
    expect((await call(emulator, `${P}/channel/,?channel-group=cg&disable-uuids=1`)).json).toEqual({
      message: 'OK',
      payload: { channels: { c2: { occupancy: 1 }, c1: { occupancy: 1 } }, total_channels: 2, total_occupancy: 2 },
      service: 'Presence',
      status: 200,
    });
    expect((await call(emulator, `${P}?uuid=me`)).json).toMatchObject({ payload: { channels: { c1: { uuids: ['Kim'] }, c2: { uuids: ['Glen'] } }, total_channels: 2 } });
    expect((await call(emulator, `${P}/channel/c1,c2?limit=0`)).json).toMatchObject({ payload: { channels: { c1: { occupancy: 1, uuids: [] } } } });
  });

  it('rejects out-of-range limits and honours disabled global here-now', async () => {
    const over = await call(emulator, `${P}/channel/c1?limit=1001`);
    expect(over.status).toBe(400);
    expect(over.json).toEqual({ status: 400, error: 1, message: 'Cannot return more than 1000 uuids at a time', service: 'Presence' });
    expect((await call(emulator, `${P}/channel/c1,c2?limit=-1`)).json).toMatchObject({ message: 'Limit must be greater than or equal to 0' });
    const noGlobal = await another({ globalHereNow: false });
    const a = await call(noGlobal, `${P}?uuid=me`);
    expect(a.status).toBe(402);
    expect(a.json).toMatchObject({ status: 402, error: 1, service: 'Presence' });
  });

  it('answers set-state, get-state and where-now as the real server does', async () => {
    await call(emulator, hb('c1,c2', 'Serhii'));
    const set = await call(emulator, `${P}/channel/c1,c2/uuid/Serhii/data?state=%7B%22k%22%3A%5B1%5D%7D`);
    expect(set.json).toEqual({ status: 200, message: 'OK', payload: { k: [1] }, service: 'Presence' });
    expect((await call(emulator, `${P}/channel/c1/uuid/Serhii`)).json).toEqual({
      status: 200, message: 'OK', payload: { k: [1] }, uuid: 'Serhii', channel: 'c1', service: 'Presence',
    });
    expect((await call(emulator, `${P}/channel/c2,c1/uuid/Serhii`)).json).toEqual({
      status: 200, message: 'OK', payload: { channels: { c2: { k: [1] }, c1: { k: [1] } } }, uuid: 'Serhii', service: 'Presence',
    });
    expect((await call(emulator, `${P}/uuid/Serhii`)).json).toEqual({ message: 'OK', payload: { channels: ['c1', 'c2'] }, service: 'Presence', status: 200 });
    const noState = await call(emulator, `${P}/channel/c1/uuid/Serhii/data`);
    expect([noState.status, noState.text]).toEqual([400, '{"status": 400, "error": 1, "message": "No state specified.", "service": "Presence"}']);
    for (const bad of ['%7Bnope', '%5B1%5D', '5', '%22abc%22', 'null']) {
      const a = await call(emulator, `${P}/channel/c1/uuid/Serhii/data?state=${bad}`);
      expect([a.status, a.text]).toEqual([400, '{"status": 400, "error": 1, "message": "Invalid JSON specified.", "service": "Presence"}']);
    }
  });

  it('sets state on every member channel of a group', async () => {
    await call(emulator, '/v1/channel-registration/sub-key/demo/channel-group/g?add=m1,m2');
    await call(emulator, `${P}/channel/,/uuid/u/data?channel-group=g&state=%7B%22a%22%3A1%7D`);
    expect((await call(emulator, `${P}/channel/,/uuid/u?channel-group=g`)).json).toMatchObject({ payload: { channels: { m1: { a: 1 }, m2: { a: 1 } } } });
  });

  it('heartbeat: per-channel map, un-keyed variant, group keys, -pnpres ignored; leave body', async () => {
    await call(emulator, '/v1/channel-registration/sub-key/demo/channel-group/g?add=m1');
    const a = await call(emulator, hb('a,a-pnpres', 'u', '&channel-group=g,g-pnpres&state=' + encodeURIComponent('{"a":{"x":1},"g":{"y":2}}')));
    expect(a.text).toBe('{"message":"OK","service":"Presence","status":200}');
    expect((await call(emulator, `${P}/uuid/u`)).json).toMatchObject({ payload: { channels: ['a', 'm1'] } });
    expect((await call(emulator, `${P}/channel/a,m1/uuid/u`)).json).toMatchObject({ payload: { channels: { a: { x: 1 }, m1: { y: 2 } } } });
    await call(emulator, hb('a', 'u', '&state=' + encodeURIComponent('{"mood":"hb"}')));
    expect((await call(emulator, `${P}/channel/a/uuid/u`)).json).toMatchObject({ payload: { mood: 'hb' } });
    await call(emulator, hb('a', 'u', '&state=%7B%7D'));
    expect((await call(emulator, `${P}/channel/a/uuid/u`)).json).toMatchObject({ payload: { mood: 'hb' } });
    const bye = await call(emulator, `/v2/presence/sub_key/demo/channel/a/leave?uuid=u`);
    expect(bye.text).toBe('{"action":"leave","message":"OK","service":"Presence","status":200}');
    expect((await call(emulator, `${P}/channel/a/uuid/u`)).json).toMatchObject({ payload: {} });
  });

  it('keeps subscribe keys isolated', async () => {
    await call(emulator, hb('c', 'u'));
    expect((await call(emulator, '/v2/presence/sub-key/other/channel/c')).json).toMatchObject({ occupancy: 0 });
    expect((await call(emulator, '/v2/presence/sub-key/other/uuid/u')).json).toMatchObject({ payload: { channels: [] } });
  });

  it('answers /time/0, OPTIONS and channel-group listing', async () => {
    const t = await call(emulator, '/time/0');
    expect(t.text).toBe(`[${clock}0000]`);
    const o = await call(emulator, `${P}/channel/c`, { method: 'OPTIONS' });
    expect(o.status).toBe(200);
    expect(o.headers['access-control-allow-origin']).toBe('*');
    await call(emulator, '/v1/channel-registration/sub-key/demo/channel-group/g?add=a,b');
    expect((await call(emulator, '/v1/channel-registration/sub-key/demo/channel-group')).json).toEqual({
      status: 200, payload: { groups: ['g'], sub_key: 'demo' }, service: 'channel-registry', error: false,
    });
  });
});

describe('timeouts with a fake clock', () => {
  it('times a user out after its heartbeat value and deletes its state', async () => {
    await call(emulator, hb('c', 'short').replace('heartbeat=300', 'heartbeat=10') + '&state=' + encodeURIComponent('{"c":{"a":1}}'));
    await call(emulator, hb('c', 'long'));
    clock += 10_001;
    expect(emulator.sweep()).toBe(1);
    expect((await call(emulator, `${P}/channel/c`)).json).toMatchObject({ occupancy: 1, uuids: ['long'] });
    expect((await call(emulator, `${P}/channel/c/uuid/short`)).json).toMatchObject({ payload: {} });
    expect(emulator.stats().timeouts).toBe(1);
    clock += 300_000;
    const swept = await call(emulator, '/__emulator/sweep', { method: 'POST' });
    expect(swept.json).toEqual({ ok: true, timedOut: 1 });
  });
});

describe('bad requests never take it down', () => {
  it('answers each bad request class with JSON and keeps serving', async () => {
    const notFound = await call(emulator, '/v2/presence/demo/demo/channel/channelSwift/heartbeat');
    expect([notFound.status, notFound.text]).toEqual([404, `{"message": "Not found: '/v2/presence/demo/demo/channel/channelSwift/heartbeat'","error": 1,"service": "Presence"}`]);
    expect(notFound.headers['content-type']).toContain('javascript');
    expect((await call(emulator, '/publish/demo/demo/0/c/0/%22hi%22')).status).toBe(404);
    expect((await call(emulator, `${P}/channel/c`, { method: 'POST', body: 'x' })).status).toBe(404);
    const badEncoding = await call(emulator, `${P}/channel/%E0%A4%A?uuid=%zz`);
    expect([badEncoding.status, badEncoding.json]).toEqual([400, { message: 'Could Not Parse Request', error: true, service: 'Access Manager', status: 400 }]);
    expect((await call(emulator, '/v2/presence/sub-key//channel/c')).json).toMatchObject({ message: 'Invalid Subscribe Key', status: 400 });
    const long = await call(emulator, `${P}/channel/c?state=${'x'.repeat(33 * 1024)}`);
    expect([long.status, long.text]).toEqual([414, '{"message":"Request URI Too Long","error":true,"service":"Balancer","status":414}']);
    // Beyond Node's own header limit the parser rejects it; the clientError path still answers JSON.
    expect(await raw(emulator, `GET /${'y'.repeat(100 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(/^HTTP\/1\.1 414[\s\S]*"status":414/);
    expect(await raw(emulator, 'NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400[\s\S]*Could Not Parse Request/);
    expect(await raw(emulator, 'GET /v2/presence/sub-key/demo/channel/%%% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    const after = await call(emulator, '/time/0');
    expect(after.status).toBe(200);
    expect(emulator.stats().requests.byOperation.other).toBe(7);
  });

  it('uses maxUrlLength for the 414 threshold', async () => {
    const small = await another({ maxUrlLength: 100 });
    expect((await call(small, `/time/0?pad=${'x'.repeat(100)}`)).status).toBe(414);
    expect((await call(small, '/time/0')).status).toBe(200);
  });
});

describe('admin API, counters, faults and latency', () => {
  it('counts requests per operation, excluding the admin API', async () => {
    await call(emulator, hb('c', 'u'));
    await call(emulator, `${P}/channel/c`);
    await call(emulator, `${P}`);
    await call(emulator, `${P}/uuid/u`);
    await call(emulator, `${P}/channel/c/uuid/u/data?state=%7B%7D`);
    await call(emulator, `${P}/channel/c/uuid/u`);
    await call(emulator, `${P}/channel/c/leave?uuid=u`);
    await call(emulator, '/time/0');
    await call(emulator, '/v1/channel-registration/sub-key/demo/channel-group');
    await call(emulator, '/nope');
    const stats = (await call(emulator, '/__emulator/stats')).json as ReturnType<Emulator['stats']>;
    expect(stats.requests).toEqual({
      total: 10,
      byOperation: { hereNow: 2, whereNow: 1, getPresenceState: 1, setPresenceState: 1, heartbeat: 1, leave: 1, time: 1, channelGroups: 1, subscribe: 0, other: 1 },
    });
    expect(stats.responsesByStatus).toEqual({ 200: 9, 404: 1 });
    await call(emulator, '/__emulator/reset', { method: 'POST' });
    expect(emulator.stats().requests.total).toBe(0);
  });

  it('injects faults set over HTTP: counted, per channel, 429 with Retry-After, custom answers', async () => {
    const set = await call(emulator, '/__emulator/faults', {
      method: 'POST',
      body: JSON.stringify([
        { operation: 'hereNow', channel: 'flaky', count: 2, response: '429', retryAfterSec: 3 },
        { operation: 'whereNow', count: 1, response: { status: 418, body: 'teapot', headers: { 'X-Why': 'test' } } },
      ]),
    });
    expect(set.status).toBe(200);
    const limited = await call(emulator, `${P}/channel/flaky`);
    expect([limited.status, limited.headers['retry-after'], limited.json]).toEqual([429, '3', { status: 429, error: true, message: 'Too many requests.' }]);
    expect((await call(emulator, `${P}/channel/fine`)).status).toBe(200);
    expect((await call(emulator, `${P}/channel/flaky`)).status).toBe(429);
    expect((await call(emulator, `${P}/channel/flaky`)).status).toBe(200);
    const custom = await call(emulator, `${P}/uuid/u`);
    expect([custom.status, custom.text, custom.headers['x-why']]).toEqual([418, 'teapot', 'test']);
    expect(emulator.stats().faultsInjected).toBe(3);
    expect((await call(emulator, '/__emulator/faults', { method: 'POST', body: '{"rules":[{"response":"bogus"}]}' })).status).toBe(400);
    expect((await call(emulator, '/__emulator/faults', { method: 'POST', body: '{not json' })).status).toBe(400);
  });

  it('reset destroys the socket and hang never answers, until the client gives up', async () => {
    emulator.setFaults([
      { operation: 'heartbeat', count: 1, response: 'reset' },
      { operation: 'leave', count: 1, response: 'hang' },
    ]);
    await expect(call(emulator, hb('c', 'u'))).rejects.toThrow();
    await expect(call(emulator, `${P}/channel/c/leave?uuid=u`, { timeoutMs: 200 })).rejects.toThrow('client timeout');
    expect((await call(emulator, hb('c', 'u'))).status).toBe(200);
  });

  it('adds latency set through the admin API, and close() does not wait for delayed answers', async () => {
    const slow = await another({});
    expect((await call(slow, '/__emulator/latency', { method: 'POST', body: '{"ms":30}' })).json).toEqual({ ok: true, ms: 30 });
    expect((await call(slow, '/time/0')).status).toBe(200);
    slow.setLatency(60_000);
    const pending = call(slow, '/time/0').catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 20));
    await slow.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('here-now cache', () => {
  it('serves a cached answer for hereNowCacheMs, then a fresh one', async () => {
    let t = 0;
    const cached = await another({ hereNowCacheMs: 3000, now: () => t });
    await call(cached, hb('c', 'a'));
    expect((await call(cached, `${P}/channel/c?uuid=x&requestid=1`)).json).toMatchObject({ occupancy: 1 });
    await call(cached, hb('c', 'b'));
    expect((await call(cached, `${P}/channel/c?uuid=y&requestid=2`)).json).toMatchObject({ occupancy: 1 });
    expect((await call(cached, `${P}/channel/c?disable_uuids=1`)).json).toMatchObject({ occupancy: 2 });
    t += 3000;
    expect((await call(cached, `${P}/channel/c?uuid=x&requestid=3`)).json).toMatchObject({ occupancy: 2 });
    expect(cached.stats().hereNowCacheHits).toBe(1);
    expect(cached.stats().requests.byOperation.hereNow).toBe(4);
  });
});

describe('connections', () => {
  it('keeps sockets alive between requests and closes promptly with idle sockets open', async () => {
    const e = await another({});
    const first = await call(e, '/time/0');
    const second = await call(e, '/time/0');
    expect(first.reusedSocket).toBe(false);
    expect(second.reusedSocket).toBe(true);
    await e.close();
    await e.close();
  });
});

describe('its own failures are never silent (issue 16, defect 8)', () => {
  // A clock that fails while armed stands in for a bug in a request handler.
  let armed = false;
  const boom = () => {
    if (armed) throw new Error('a bug in the emulator');
    return Date.now();
  };
  const failing = async (emulator: Emulator, path: string) => {
    armed = true;
    try {
      return await call(emulator, path);
    } finally {
      armed = false;
    }
  };

  it('a request it fails to handle gets a 500, and onError hears of it without the query', async () => {
    const seen: Array<{ message: string; method: string; path: string }> = [];
    const broken = await createEmulator({ now: boom, sweepIntervalMs: 0, onError: (error, where) => seen.push({ message: (error as Error).message, ...where }) });
    try {
      const answer = await failing(broken, '/v2/presence/sub-key/demo/channel/lobby/heartbeat?uuid=u&auth=SECRET-AUTH&signature=v2.SIG');
      expect(answer.status).toBe(500);
      expect(seen).toEqual([{ message: 'a bug in the emulator', method: 'GET', path: '/v2/presence/sub-key/demo/channel/lobby/heartbeat' }]);
      expect(broken.stats().internalErrors).toBe(1);
    } finally {
      await broken.close();
    }
  });

  it('by default it writes one line to stderr, with no query string', async () => {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    const broken = await createEmulator({ now: boom, sweepIntervalMs: 0 });
    try {
      expect((await failing(broken, '/v2/presence/sub-key/demo/channel/lobby/heartbeat?uuid=u&auth=SECRET-AUTH')).status).toBe(500);
    } finally {
      process.stderr.write = write;
      await broken.close();
    }
    expect(lines.join('')).toMatch(/^presence-emulator: internal error answering GET \/v2\/presence\/sub-key\/demo\/channel\/lobby\/heartbeat \(sent 500\): Error: a bug in the emulator/);
    expect(lines.join('')).not.toContain('SECRET-AUTH');
  });

  it('refuses an unknown option, naming it', async () => {
    await expect(createEmulator({ latency: 5 } as never)).rejects.toThrow('createEmulator: unknown option "latency"; the options are port, host,');
  });
});
