import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedisServer, type RedisServer } from '@presence/cache-redis/testing';
import { createEmulator } from '@presence/emulator';
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
    // A room outside the roster goes through the cache (a miss, then the upstream).
    expect((await call(base, 'GET', '/rooms/kitchen/presence')).json).toEqual({ room: 'kitchen', occupancy: 0, occupants: [] });
    const metrics = await call(base, 'GET', '/metrics');
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    expect(metrics.text).toMatch(/presence_operations_total\{operation="hereNow",outcome="success"\} [1-9]/);
    expect(metrics.text).toMatch(/presence_cache_lookups_total\{[^}]*result="miss"[^}]*\} [1-9]/);
  });

  test.each([
    ['an invalid room name', 'GET', '/rooms/a%2Cb/presence', undefined, 'room'],
    ['a room name with a control character', 'POST', '/users/ada/rooms/a%07b/heartbeat', undefined, 'room'],
    ['a room name over 92 characters', 'GET', `/rooms/${'r'.repeat(93)}/presence`, undefined, 'room'],
    ['bad percent-encoding in a user', 'GET', '/users/%E0%A4%A/rooms', undefined, 'user'],
    ['a user name over 92 characters', 'GET', `/users/${'u'.repeat(93)}/rooms`, undefined, 'user'],
    ['a user name with a control character', 'GET', '/users/ad%00a/rooms', undefined, 'user'],
    ['a user name with a newline', 'POST', '/users/ada%0A/rooms/lobby/heartbeat', undefined, 'user'],
    ['a user name with DEL', 'DELETE', '/users/a%7Fda/rooms/lobby', undefined, 'user'],
    ['a user name with a C1 control character', 'PUT', '/users/a%C2%85da/rooms/lobby/state', { mood: 'x' }, 'user'],
    ['a bad room in ?rooms=', 'GET', '/users/ada/state?rooms=lobby,a*b', undefined, 'rooms'],
    ['?state=yes', 'GET', '/rooms/lobby/presence?state=yes', undefined, 'state'],
    ['an empty ?state=', 'GET', '/rooms/lobby/presence?state=', undefined, 'state'],
    ['?state=2', 'GET', '/rooms/lobby/presence?state=2', undefined, 'state'],
    ['a state that is not an object', 'PUT', '/users/ada/rooms/lobby/state', '"happy"', undefined],
    ['a state that is an array', 'PUT', '/users/ada/rooms/lobby/state', [1, 2], undefined],
    ['a body that is not JSON', 'PUT', '/users/ada/rooms/lobby/state', '{mood:', 'state'],
    ['an empty body', 'PUT', '/users/ada/rooms/lobby/state', '', 'state'],
    ['an oversized state', 'PUT', '/users/ada/rooms/lobby/state', { blob: 'x'.repeat(20_000) }, undefined],
    ['state rooms missing', 'GET', '/users/ada/state', undefined, 'rooms'],
    ['a bad heartbeat value', 'POST', '/users/ada/rooms/lobby/heartbeat?heartbeat=soon', undefined, 'heartbeat'],
    ['a heartbeat value out of range', 'POST', '/users/ada/rooms/lobby/heartbeat?heartbeat=9999', undefined, 'heartbeat'],
  ])('%s answers 400 with the validation message, and the service keeps serving', async (_name, method, path, body, field) => {
    const before = app.emulator!.stats().requests.total;
    const answer = await call(base, method, path, body);
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toEqual(expect.any(String));
    // Written for an API client: no library option names, no operation names.
    expect(answer.json.error.message).not.toMatch(/channels\[|userId|hereNow|whereNow|heartbeat:|setPresenceState|getPresenceState|maxBytes/);
    expect(answer.json.error.message.length).toBeGreaterThan(10);
    expect(['validation_error', 'serialization_error']).toContain(answer.json.error.code);
    if (field) expect(answer.json.error.field).toBe(field);
    expect(app.emulator!.stats().requests.total).toBe(before); // nothing was sent upstream
    expect((await call(base, 'GET', '/healthz')).status).toBe(200);
  });

  test('here-now for a room on the page is answered by the live roster, without an upstream call', async () => {
    await app.replicas[0]!.live.ready;
    await call(base, 'POST', '/users/zed/rooms/random/heartbeat');
    const rosterHas = () => app.replicas[0]!.live.snapshot()!.rooms.find((r) => r.room === 'random')!.occupants.some((o) => o.userId === 'zed');
    await expect.poll(rosterHas, { timeout: 10_000 }).toBe(true);
    const before = app.emulator!.stats().requests.byOperation.hereNow ?? 0;
    const answer = await call(base, 'GET', '/rooms/random/presence');
    expect(answer.json.occupants).toContainEqual({ userId: 'zed' });
    expect(app.emulator!.stats().requests.byOperation.hereNow ?? 0).toBe(before);
  });

  test('the page escapes names and states: markup in a user id or a state is shown as text', async () => {
    const user = '<img src=x onerror=alert(1)>';
    await call(base, 'POST', `/users/${encodeURIComponent(user)}/rooms/engineering/heartbeat`);
    await call(base, 'PUT', `/users/${encodeURIComponent(user)}/rooms/engineering/state`, { mood: '<script>alert(2)</script>' });
    const rosterHas = () => JSON.stringify(app.replicas[0]!.live.snapshot()!.rooms).includes('alert(2)');
    await expect.poll(rosterHas, { timeout: 10_000 }).toBe(true);
    const html = (await call(base, 'GET', '/')).text;
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>alert');
    await call(base, 'DELETE', `/users/${encodeURIComponent(user)}/rooms/engineering`);
  });

  test('an unknown path is a 404 that points to the page and the API', async () => {
    const answer = await call(base, 'GET', '/nope');
    expect(answer.status).toBe(404);
    expect(answer.json.error.code).toBe('not_found');
  });

  test.each([
    ['POST', '/healthz', 'GET, HEAD'],
    ['DELETE', '/readyz', 'GET, HEAD'],
    ['PUT', '/', 'GET, HEAD, POST'],
    ['POST', '/events', 'GET, HEAD'],
    ['POST', '/metrics', 'GET, HEAD'],
    ['POST', '/rooms/lobby/presence', 'GET, HEAD'],
    ['DELETE', '/users/ada/rooms', 'GET, HEAD'],
    ['GET', '/users/ada/rooms/lobby/heartbeat', 'POST'],
    ['HEAD', '/users/ada/rooms/lobby/heartbeat', 'POST'],
    ['GET', '/users/ada/rooms/lobby/state', 'PUT'],
    ['GET', '/users/ada/rooms/lobby', 'DELETE'],
    ['PATCH', '/users/ada/rooms/lobby', 'DELETE'],
  ])('%s %s is a 405 with Allow: %s', async (method, path, allow) => {
    const before = app.emulator!.stats().requests.total;
    const answer = await call(base, method, path);
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe(allow);
    if (method !== 'HEAD') expect(answer.json.error).toMatchObject({ code: 'method_not_allowed', message: expect.stringContaining(allow) });
    expect(app.emulator!.stats().requests.total).toBe(before);
  });

  test.each([
    ['/', /^text\/html/],
    ['/healthz', /^application\/json/],
    ['/readyz', /^application\/json/],
    ['/metrics', /^text\/plain/],
    ['/events', /^text\/event-stream/],
    ['/assets/page.css', /^text\/css/],
    ['/assets/page.js', /^text\/javascript/],
    ['/rooms/lobby/presence', /^application\/json/],
    ['/users/ada/rooms', /^application\/json/],
    ['/users/ada/state?rooms=lobby', /^application\/json/],
  ])('HEAD %s answers like GET, without a body', async (path, type) => {
    const head = await fetch(`${base}${path}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(type);
    expect(await head.text()).toBe('');
    if (path !== '/events') {
      const get = await fetch(`${base}${path}`);
      expect(get.status).toBe(200);
      expect(get.headers.get('content-type')).toBe(head.headers.get('content-type'));
      expect((await get.text()).length).toBeGreaterThan(0);
    }
  });

  test('/healthz is liveness; /readyz says ready once the roster is seeded', async () => {
    expect(await call(base, 'GET', '/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(await call(base, 'GET', '/readyz')).toMatchObject({ status: 200, json: { status: 'ready', roster: 'solo' } });
  });

  test.each([
    ['1', true],
    ['true', true],
    ['0', false],
    ['false', false],
  ])('?state=%s is accepted', async (value, withState) => {
    await call(base, 'POST', '/users/ida/rooms/den/heartbeat');
    await call(base, 'PUT', '/users/ida/rooms/den/state', { mood: 'reading' });
    const answer = await call(base, 'GET', `/rooms/den/presence?state=${value}`);
    expect(answer.status).toBe(200);
    expect(answer.json.occupants).toEqual([withState ? { userId: 'ida', state: { mood: 'reading' } } : { userId: 'ida' }]);
  });

  test('the page\'s form works without JavaScript: join, set a status, leave, and a bad name', async () => {
    const post = (fields: Record<string, string>) =>
      fetch(`${base}/`, { method: 'POST', body: new URLSearchParams(fields) }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), html: await r.text() }));
    const joined = await post({ user: 'nojs', room: 'random', mood: 'reading', action: 'join' });
    expect(joined).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/html/) });
    expect(joined.html).toMatch(/nojs joined random/);
    expect((await call(base, 'GET', '/rooms/random/presence?state=1')).json.occupants).toContainEqual({ userId: 'nojs', state: { mood: 'reading' } });
    expect((await post({ user: 'nojs', room: 'random', mood: 'writing', action: 'state' })).status).toBe(200);
    expect((await call(base, 'GET', '/rooms/random/presence?state=1')).json.occupants).toContainEqual({ userId: 'nojs', state: { mood: 'writing' } });
    expect((await post({ user: 'nojs', room: 'random', action: 'leave' })).html).toMatch(/nojs left random/);
    expect((await call(base, 'GET', '/users/nojs/rooms')).json.rooms).toEqual([]);
    const bad = await post({ user: 'a\u0007b', room: 'random', action: 'join' });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/The user name contains the control character U\+0007/);
  });

  test('a body over 64 KiB is a 413, and nothing is sent upstream', async () => {
    const before = app.emulator!.stats().requests.total;
    const answer = await call(base, 'PUT', '/users/ada/rooms/lobby/state', { blob: 'x'.repeat(70_000) });
    expect(answer.status).toBe(413);
    expect(answer.json.error).toMatchObject({ code: 'payload_too_large', field: 'state' });
    expect(app.emulator!.stats().requests.total).toBe(before);
  });

  test('upstream failures answer 502, 503 and 504 with a body for an API client', async () => {
    const emulator = app.emulator!;
    const upstreamHost = new URL(emulator.origin).host;
    const forClient = (text: string): void => {
      expect(text).not.toContain(upstreamHost); // no upstream host:port
      expect(text).not.toMatch(/127\.0\.0\.1|timeoutMs|httpTransport|retry\(\)|whereNow|PRESENCE_TIMEOUT_MS/); // no library or option names
    };
    try {
      emulator.setFaults([{ operation: 'whereNow', response: '403' }]);
      const forbidden = await call(base, 'GET', '/users/x/rooms');
      expect(forbidden.status).toBe(502);
      expect(forbidden.json.error).toMatchObject({ code: 'api_error' });
      expect(forbidden.json.error.message).toMatch(/403/);
      forClient(forbidden.text);

      emulator.setFaults([{ operation: 'whereNow', response: '503' }]);
      const unavailable = await call(base, 'GET', '/users/x/rooms');
      expect(unavailable.status).toBe(503);
      forClient(unavailable.text);

      emulator.setFaults([{ operation: 'whereNow', response: 'hang' }]);
      const slow = await call(base, 'GET', '/users/x/rooms');
      expect(slow.status).toBe(504);
      expect(slow.json.error.code).toBe('timeout');
      forClient(slow.text);
    } finally {
      emulator.setFaults([]);
    }
    expect((await call(base, 'GET', '/users/x/rooms')).status).toBe(200);
  });
});

describe('an upstream that cannot be reached', () => {
  test('answers 503 without naming its host:port', async () => {
    const closed = await createEmulator();
    const origin = closed.origin;
    await closed.close();
    const app = await startApp(loadConfig({ PORT: '0', PUBNUB_SUBSCRIBE_KEY: 'demo', PUBNUB_ORIGIN: origin, PRESENCE_TIMEOUT_MS: '3000' }));
    try {
      const answer = await call(app.replicas[0]!.url, 'GET', '/users/ada/rooms');
      expect(answer.status).toBe(503);
      expect(answer.json.error.code).toBe('network_error');
      expect(answer.text).not.toContain(new URL(origin).host);
      expect(answer.text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|retry\(\)|timeoutMs/);
      expect((await call(app.replicas[0]!.url, 'GET', '/readyz')).status).toBe(503); // the roster cannot seed
    } finally {
      await app.close();
    }
  });
});

describe('two replicas sharing one Redis cache', () => {
  let redis: RedisServer;
  let app: App;
  beforeAll(async () => {
    redis = await startRedisServer();
    // A window and a Redis deadline that a busy machine cannot outlast: a Redis starved of CPU past
    // the default 50 ms deadline rightly sends calls upstream (fail-open), and a 3 s window can end
    // in the middle of a slow burst; these tests are about sharing one cache, not about those.
    app = await startApp(loadConfig({ PORT: '0', REPLICAS: '2', REDIS_URL: redis.url, SIMULATE: '0', CACHE_TTL_MS: '30000', REDIS_COMMAND_TIMEOUT_MS: '5000' }));
    // The roster's seed reads are here-now calls too: let them finish before a test counts calls.
    await Promise.all(app.replicas.map((replica) => replica.live.ready));
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
    // the 30 s cache TTL: only the invalidation can explain seeing the new state this soon.
    const changed = performance.now();
    let occupants: unknown;
    while (performance.now() - changed < 10_000) {
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

describe('readiness with Redis', () => {
  test('/readyz is 503 naming Redis while Redis is down, and 200 again once it is back', async () => {
    const redis = await startRedisServer();
    const app = await startApp(loadConfig({ PORT: '0', REDIS_URL: redis.url, SIMULATE: '0' }));
    try {
      const base = app.replicas[0]!.url;
      await expect.poll(async () => (await call(base, 'GET', '/readyz')).status, { timeout: 10_000 }).toBe(200);
      redis.kill();
      const down = await call(base, 'GET', '/readyz');
      expect(down.status).toBe(503);
      expect(down.json).toMatchObject({ status: 'not_ready', failing: { redis: expect.any(String) } });
      expect(down.text).not.toContain(String(redis.port)); // no upstream host:port
      expect(down.text).not.toMatch(/enableOfflineQueue|ioredis|Stream/); // no library words
      expect((await call(base, 'GET', '/healthz')).status).toBe(200); // alive all the same
      await redis.restart();
      await expect.poll(async () => (await call(base, 'GET', '/readyz')).status, { timeout: 15_000 }).toBe(200);
    } finally {
      await app.close();
      await redis.stop();
    }
  });
});
