import { describe, expect, test } from 'vitest';
import { createPresence, SDK_NAME, type JsonValue } from '../index.js';
import { createMemoryTransport } from '../testing.js';
import { capturedRequests, withoutVolatileParams } from '../../test/fixtures.js';

function client(userId = 'user#1', extra: { authKey?: string } = {}) {
  const transport = createMemoryTransport();
  const presence = createPresence({ subscribeKey: 'mySubKey', userId, transport, ...extra });
  const last = () => transport.requests.at(-1)!;
  return { presence, transport, last };
}

const captured = new Set(capturedRequests().map(withoutVolatileParams));

describe('requests match what the official SDK sends (its wire capture)', () => {
  const cases: Array<[string, (p: ReturnType<typeof client>['presence']) => Promise<unknown>, string?]> = [
    ['hereNow multi with state and paging', (p) => p.hereNow({ channels: ['ch1', 'ch2'], includeState: true, limit: 3, offset: 2 })],
    ['hereNow groups only, without uuids', (p) => p.hereNow({ channelGroups: ['cg1', 'cg2'], includeUserIds: false })],
    ['hereNow global', (p) => p.hereNow({ global: true })],
    ['hereNow forbidden channel', (p) => p.hereNow({ channels: ['FORCE403'] })],
    ['whereNow of another user', (p) => p.whereNow({ userId: 'other user' })],
    ['setPresenceState on channels and a group', (p) => p.setPresenceState({ channels: ['ch1', 'ch2'], channelGroups: ['cg1'], state: { mood: 'ok', n: 1 } })],
    ['getPresenceState single', (p) => p.getPresenceState({ channels: ['ch1'] })],
    ['getPresenceState multi of another user', (p) => p.getPresenceState({ channels: ['ch1', 'ch2'], userId: 'other' })],
    ['getPresenceState group', (p) => p.getPresenceState({ channelGroups: ['cg1'] })],
  ];
  for (const [name, call] of cases) {
    test(name, async () => {
      const { presence, last } = client();
      await call(presence).catch(() => undefined);
      expect(captured).toContain(withoutVolatileParams(last().target));
    });
  }

  test('heartbeat with per-channel state and leave (run2, user1)', async () => {
    const { presence, last } = client('user1');
    await presence.heartbeat({ channels: ['test-channel1'], state: { 'test-channel1': { mood: 'pre' } } });
    expect(captured).toContain(withoutVolatileParams(last().target));
    await presence.leave({ channels: ['test-channel1'] });
    expect(captured).toContain(withoutVolatileParams(last().target));
    await presence.setPresenceState({ channels: ['test-channel1'], state: { mood: 'pre' } }).catch(() => undefined);
    expect(captured).toContain(withoutVolatileParams(last().target));
  });

  test('unicode and reserved characters in user ids and state (run4)', async () => {
    const userId = "ü id!*'()~";
    const transport = createMemoryTransport();
    const presence = createPresence({ subscribeKey: 'sub-c-x', userId, transport });
    await presence.setPresenceState({ channels: ['café'], state: { 'k é': 'v&=+/?' } }).catch(() => undefined);
    expect(captured).toContain(withoutVolatileParams(transport.requests[0]!.target));
    await presence.whereNow({});
    expect(captured).toContain(withoutVolatileParams(transport.requests[1]!.target));
  });

  test('auth comes after pnsdk, as captured from a signed client', async () => {
    const { presence, last } = client('user#1', { authKey: 'myAuth' });
    await presence.hereNow({ channels: ['ch1'], channelGroups: ['cg1'] }).catch(() => undefined);
    expect(withoutVolatileParams(last().target)).toBe('/v2/presence/sub-key/mySubKey/channel/ch1?limit=1000&channel-group=cg1&uuid=user%231&auth=myAuth');
    expect(captured).toContain(withoutVolatileParams(last().target));
  });
});

describe('request building, option by option', () => {
  const target = async (run: (p: ReturnType<typeof client>['presence']) => Promise<unknown>, userId = 'me') => {
    const { presence, last } = client(userId);
    await run(presence).catch(() => undefined);
    return last();
  };

  test('common parameters: uuid, a fresh requestid, pnsdk naming this SDK', async () => {
    const { presence, transport } = client();
    await presence.whereNow({});
    await presence.whereNow({});
    const [a, b] = transport.requests.map((r) => new Map(r.query));
    expect(a!.get('uuid')).toBe('user#1');
    expect(a!.get('pnsdk')).toBe(SDK_NAME);
    expect(SDK_NAME).toMatch(/^Presence-TS-Nodejs\/\d+\.\d+\.\d+/);
    expect(a!.get('requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(a!.get('requestid')).not.toBe(b!.get('requestid'));
    expect(a!.has('auth')).toBe(false);
  });

  test('hereNow defaults: limit 1000, no offset, uuids on, state off', async () => {
    const r = await target((p) => p.hereNow({ channels: ['lobby'] }));
    expect(r.path).toBe('/v2/presence/sub-key/mySubKey/channel/lobby');
    expect(r.query.slice(0, 1)).toEqual([['limit', '1000']]);
    expect(r.query.map(([k]) => k)).not.toContain('offset');
  });

  test.each([
    [{ offset: 0 }, []],
    [{ offset: 5 }, [['offset', '5']]],
    [{ limit: 0 }, []],
    [{ includeState: true }, [['state', '1']]],
    [{ includeUserIds: false }, [['disable_uuids', '1']]],
    [{ channelGroups: ['a', 'b'] }, [['channel-group', 'a,b']]],
  ] as const)('hereNow %j', async (options, extra) => {
    const r = await target((p) => p.hereNow({ channels: ['lobby'], ...options }));
    for (const param of extra) expect(r.query).toContainEqual(param);
    if ('limit' in options) expect(r.query).toContainEqual(['limit', '0']);
  });

  test('hereNow with only groups uses the "," placeholder; global has no channel segment or paging', async () => {
    expect((await target((p) => p.hereNow({ channelGroups: ['g'] }))).path).toBe('/v2/presence/sub-key/mySubKey/channel/,');
    const global = await target((p) => p.hereNow({ global: true, includeState: true }));
    expect(global.path).toBe('/v2/presence/sub-key/mySubKey');
    expect(global.query.map(([k]) => k)).toEqual(['state', 'uuid', 'requestid', 'pnsdk']);
  });

  test('names are encoded one by one and joined with a raw comma', async () => {
    const r = await target((p) => p.hereNow({ channels: ['café', 'a.b-c_d~e', "x!'()"] }));
    expect(r.path).toBe("/v2/presence/sub-key/mySubKey/channel/caf%C3%A9,a.b-c_d%7Ee,x%21%27%28%29");
  });

  test('repeated names are sent once', async () => {
    const r = await target((p) => p.hereNow({ channels: ['a', 'b', 'a'] }));
    expect(r.path).toBe('/v2/presence/sub-key/mySubKey/channel/a,b');
  });

  test('whereNow defaults to the client user; the uuid query parameter stays the caller', async () => {
    const r = await target((p) => p.whereNow({}), 'me');
    expect(r.path).toBe('/v2/presence/sub-key/mySubKey/uuid/me');
    const other = await target((p) => p.whereNow({ userId: 'you' }), 'me');
    expect(other.path).toBe('/v2/presence/sub-key/mySubKey/uuid/you');
    expect(new Map(other.query).get('uuid')).toBe('me');
  });

  test('setPresenceState for another user, groups only', async () => {
    const r = await target((p) => p.setPresenceState({ channelGroups: ['g1'], userId: 'bob', state: { a: [1, { b: null }] } }));
    expect(r.path).toBe('/v2/presence/sub-key/mySubKey/channel/,/uuid/bob/data');
    expect(r.query.slice(0, 2)).toEqual([['state', '{"a":[1,{"b":null}]}'], ['channel-group', 'g1']]);
  });

  test('getPresenceState defaults to the client user', async () => {
    const r = await target((p) => p.getPresenceState({ channels: ['a'] }), 'me');
    expect(r.path).toBe('/v2/presence/sub-key/mySubKey/channel/a/uuid/me');
  });

  test('heartbeat: seconds default 300, groups, per-channel and per-group state keyed by name', async () => {
    const plain = await target((p) => p.heartbeat({ channels: ['a'] }));
    expect(plain.path).toBe('/v2/presence/sub-key/mySubKey/channel/a/heartbeat');
    expect(plain.query[0]).toEqual(['heartbeat', '300']);
    expect(plain.query.map(([k]) => k)).not.toContain('state');
    const full = await target((p) => p.heartbeat({ channels: ['a'], channelGroups: ['g'], heartbeat: 60, state: { a: { x: 1 }, g: { y: 'z' } } }));
    expect(full.query.slice(0, 3)).toEqual([['heartbeat', '60'], ['channel-group', 'g'], ['state', '{"a":{"x":1},"g":{"y":"z"}}']]);
  });

  test('heartbeat and leave for another user carry that user as uuid, once', async () => {
    const hb = await target((p) => p.heartbeat({ channels: ['a'], userId: 'bob', state: { a: { x: 1 } } }), 'me');
    expect(hb.query.filter(([k]) => k === 'uuid')).toEqual([['uuid', 'bob']]);
    const bye = await target((p) => p.leave({ channels: ['a'], userId: 'bob' }), 'me');
    expect(bye.query.filter(([k]) => k === 'uuid')).toEqual([['uuid', 'bob']]);
    const own = await target((p) => p.leave({ channels: ['a'] }), 'me');
    expect(own.query.filter(([k]) => k === 'uuid')).toEqual([['uuid', 'me']]);
  });

  test('leave sorts and de-duplicates, as the official SDK does', async () => {
    const r = await target((p) => p.leave({ channels: ['b', 'a', 'b'], channelGroups: ['z', 'y'] }));
    expect(r.path).toBe('/v2/presence/sub-key/mySubKey/channel/a,b/leave');
    expect(r.query[0]).toEqual(['channel-group', 'y,z']);
  });

  test('the subscribe key is encoded in the path', async () => {
    const transport = createMemoryTransport();
    await createPresence({ subscribeKey: "sub!c'1", userId: 'me', transport }).whereNow({});
    expect(transport.requests[0]!.path).toBe('/v2/presence/sub-key/sub%21c%271/uuid/me');
  });

  test('state values of every JSON kind are sent as compact JSON', async () => {
    const state: JsonValue = { s: 'é"\\', n: -1.5e-7, t: true, f: false, z: null, a: [], o: {} };
    const r = await target((p) => p.setPresenceState({ channels: ['a'], state }));
    expect(JSON.parse(new Map(r.query).get('state')!)).toEqual(state);
  });
});

describe('subscribe requests match what the official SDK sends (its wire capture, run2)', () => {
  test('a participant with state: the handshake, then long-polls from the cursor', async () => {
    const transport = createMemoryTransport();
    transport.enqueue({ body: { t: { t: '17579694346167406', r: 43 }, m: [] } }, { body: { t: { t: '17579694346167407', r: 12 }, m: [] } }, { delayMs: 60_000, body: {} });
    const presence = createPresence({ subscribeKey: 'mySubKey', userId: 'user1', transport });
    const watch = presence.watch({ channels: ['test-channel1'], participant: true, state: { 'test-channel1': { mood: 'pre' } }, leaveOnEnd: false });
    const pending = watch.next();
    while (transport.requests.length < 3) await new Promise((resolve) => setTimeout(resolve, 2));
    await watch.return();
    await pending;
    for (const request of transport.requests) expect(captured).toContain(withoutVolatileParams(request.target));
  });
});
