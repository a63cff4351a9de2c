import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedisServer, type RedisServer } from '@presence/cache-redis/testing';
import { startApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, headers: response.headers };
}

describe('one replica on the embedded emulator', () => {
  let app: App;
  let base: string;
  beforeAll(async () => {
    app = await startApp(loadConfig({ PORT: '0', SIMULATE: '0', PRESENCE_TIMEOUT_MS: '2000' }));
    base = app.replicas[0]!.url;
  });
  afterAll(() => app.close());

  test('every route', async () => {
    expect((await call(base, 'GET', '/healthz')).json).toEqual({ status: 'ok' });
    expect((await call(base, 'POST', '/users/ada/rooms/lobby/heartbeat?heartbeat=60')).json).toEqual({ user: 'ada', room: 'lobby', present: true });
    expect((await call(base, 'POST', '/users/ken/rooms/lobby/heartbeat')).status).toBe(200);
    const put = await call(base, 'PUT', '/users/ada/rooms/lobby/state', { mood: 'focused' });
    expect(put.json).toEqual({ user: 'ada', room: 'lobby', state: { mood: 'focused' } });
    const withState = await call(base, 'GET', '/rooms/lobby/presence?state=1');
    expect(withState.json).toEqual({ room: 'lobby', occupancy: 2, occupants: [{ userId: 'ada', state: { mood: 'focused' } }, { userId: 'ken' }] });
    expect((await call(base, 'GET', '/users/ada/rooms')).json).toEqual({ user: 'ada', rooms: ['lobby'] });
    expect((await call(base, 'GET', '/users/ada/state?rooms=lobby,hall')).json).toEqual({ user: 'ada', states: { lobby: { mood: 'focused' }, hall: null } });
    expect((await call(base, 'DELETE', '/users/ada/rooms/lobby')).json).toEqual({ user: 'ada', room: 'lobby', present: false });
    expect((await call(base, 'GET', '/users/ada/rooms')).json).toEqual({ user: 'ada', rooms: [] });
    const metrics = await call(base, 'GET', '/metrics');
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    expect(metrics.text).toMatch(/presence_operations_total\{operation="hereNow",outcome="success"\} [1-9]/);
    expect(metrics.text).toMatch(/presence_cache_lookups_total\{[^}]*result="miss"[^}]*\} [1-9]/);
  });

  test.each([
    ['an invalid room name', 'GET', '/rooms/a%2Cb/presence', undefined, 'channels[0]'],
    ['a room name over 92 characters', 'GET', `/rooms/${'r'.repeat(93)}/presence`, undefined, 'channels[0]'],
    ['bad percent-encoding in a user', 'GET', '/users/%E0%A4%A/rooms', undefined, 'user'],
    ['a user name over 92 characters', 'GET', `/users/${'u'.repeat(93)}/rooms`, undefined, 'userId'],
    ['a state that is not an object', 'PUT', '/users/ada/rooms/lobby/state', '"happy"', undefined],
    ['a state that is an array', 'PUT', '/users/ada/rooms/lobby/state', [1, 2], undefined],
    ['a body that is not JSON', 'PUT', '/users/ada/rooms/lobby/state', '{mood:', 'state'],
    ['an empty body', 'PUT', '/users/ada/rooms/lobby/state', '', 'state'],
    ['an oversized state', 'PUT', '/users/ada/rooms/lobby/state', { blob: 'x'.repeat(20_000) }, undefined],
    ['a body over 64 KiB', 'PUT', '/users/ada/rooms/lobby/state', { blob: 'x'.repeat(70_000) }, 'state'],
    ['state rooms missing', 'GET', '/users/ada/state', undefined, 'rooms'],
    ['a bad heartbeat value', 'POST', '/users/ada/rooms/lobby/heartbeat?heartbeat=soon', undefined, 'heartbeat'],
    ['a heartbeat value out of range', 'POST', '/users/ada/rooms/lobby/heartbeat?heartbeat=9999', undefined, 'heartbeat'],
  ])('%s answers 400 with the validation message, and the service keeps serving', async (_name, method, path, body, field) => {
    const before = app.emulator!.stats().requests.total;
    const answer = await call(base, method, path, body);
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toEqual(expect.any(String));
    expect(answer.json.error.message.length).toBeGreaterThan(10);
    expect(['validation_error', 'serialization_error']).toContain(answer.json.error.code);
    if (field) expect(answer.json.error.field).toBe(field);
    expect(app.emulator!.stats().requests.total).toBe(before); // nothing was sent upstream
    expect((await call(base, 'GET', '/healthz')).status).toBe(200);
  });

  test('unknown routes and methods', async () => {
    expect((await call(base, 'GET', '/nope')).status).toBe(404);
    expect((await call(base, 'POST', '/rooms/lobby/presence')).status).toBe(405);
  });

  test('upstream failures answer 502, 503 and 504 with a clear body', async () => {
    const emulator = app.emulator!;
    try {
      emulator.setFaults([{ operation: 'whereNow', response: '403' }]);
      const forbidden = await call(base, 'GET', '/users/x/rooms');
      expect(forbidden.status).toBe(502);
      expect(forbidden.json.error).toMatchObject({ code: 'api_error' });
      expect(forbidden.json.error.message).toMatch(/403/);

      emulator.setFaults([{ operation: 'whereNow', response: '503' }]);
      const unavailable = await call(base, 'GET', '/users/x/rooms');
      expect(unavailable.status).toBe(503);

      emulator.setFaults([{ operation: 'whereNow', response: 'hang' }]);
      const slow = await call(base, 'GET', '/users/x/rooms');
      expect(slow.status).toBe(504);
      expect(slow.json.error.code).toBe('timeout');
    } finally {
      emulator.setFaults([]);
    }
    expect((await call(base, 'GET', '/users/x/rooms')).status).toBe(200);
  });
});

describe('two replicas sharing one Redis cache', () => {
  let redis: RedisServer;
  let app: App;
  beforeAll(async () => {
    redis = await startRedisServer();
    app = await startApp(loadConfig({ PORT: '0', REPLICAS: '2', REDIS_URL: redis.url, SIMULATE: '0' }));
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  test('make one upstream here-now call for the same room within a TTL window', async () => {
    const [a, b] = app.replicas.map((r) => r.url);
    await call(a!, 'POST', '/users/ada/rooms/kitchen/heartbeat');
    const before = app.emulator!.stats().requests.byOperation.hereNow ?? 0;
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => call(a!, 'GET', '/rooms/kitchen/presence')),
      ...Array.from({ length: 10 }, () => call(b!, 'GET', '/rooms/kitchen/presence')),
    ]);
    const later = await call(b!, 'GET', '/rooms/kitchen/presence');
    expect([...answers, later].every((r) => r.status === 200 && r.json.occupancy === 1)).toBe(true);
    expect((app.emulator!.stats().requests.byOperation.hereNow ?? 0) - before).toBe(1);
  });

  test('a state change through one replica is visible through the other', async () => {
    const [a, b] = app.replicas.map((r) => r.url);
    await call(a!, 'POST', '/users/grace/rooms/garden/heartbeat');
    expect((await call(b!, 'GET', '/rooms/garden/presence?state=1')).json.occupants).toEqual([{ userId: 'grace' }]);
    await call(a!, 'PUT', '/users/grace/rooms/garden/state', { mood: 'gardening' });
    // Polled rather than slept on (the pub/sub notice takes longer on a busy machine), but well within
    // the 3 s cache TTL: only the invalidation can explain seeing the new state this soon.
    const changed = performance.now();
    let occupants: unknown;
    while (performance.now() - changed < 2000) {
      occupants = (await call(b!, 'GET', '/rooms/garden/presence?state=1')).json.occupants;
      if (JSON.stringify(occupants).includes('gardening')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(occupants).toEqual([{ userId: 'grace', state: { mood: 'gardening' } }]);
  });

  test('/metrics shows the operation and cache counters', async () => {
    const metrics = await call(app.replicas[1]!.url, 'GET', '/metrics');
    expect(metrics.text).toMatch(/presence_operations_total\{operation="hereNow",outcome="success"\} [1-9]/);
    expect(metrics.text).toMatch(/presence_cache_lookups_total\{[^}]*result="(hit_l2|coalesced)"[^}]*\} [1-9]/);
  });
});

describe('graceful shutdown', () => {
  test('in-flight requests finish, new ones are refused, and everything closes', async () => {
    const app = await startApp(loadConfig({ PORT: '0', SIMULATE: '0' }));
    const base = app.replicas[0]!.url;
    app.emulator!.setLatency(300);
    const whereNowSeen = () => app.emulator!.stats().requests.byOperation.whereNow ?? 0;
    const before = whereNowSeen();
    const inflight = call(base, 'GET', '/users/ada/rooms');
    // In flight means upstream has it (a fixed sleep may end before a busy machine got there).
    while (whereNowSeen() === before) await new Promise((resolve) => setTimeout(resolve, 5));
    const closing = app.close();
    expect((await inflight).status).toBe(200);
    await closing;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
