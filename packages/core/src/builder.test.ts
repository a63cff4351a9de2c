import { describe, expect, expectTypeOf, test } from 'vitest';
import { createPresence, type HereNowResult, type JsonValue } from './index.js';
import { createMemoryTransport } from './testing.js';

const hereNowBody = { message: 'OK', payload: { channels: { lobby: { occupancy: 1, uuids: [{ uuid: 'kim', state: { mood: 'ok' } }] } }, total_channels: 1, total_occupancy: 1 }, service: 'Presence', status: 200 };

describe('the seed-style builder', () => {
  test('builds the same request as the object style', async () => {
    const transport = createMemoryTransport({ respond: () => ({ body: hereNowBody }) });
    const presence = createPresence({ subscribeKey: 'sub', userId: 'me', transport });
    const viaBuilder = await presence.hereNow().channels(['lobby', 'hall']).includeState(true).limit(10).offset(2).execute();
    const viaObject = await presence.hereNow({ channels: ['lobby', 'hall'], includeState: true, limit: 10, offset: 2 });
    expect(viaBuilder).toEqual(viaObject);
    const [a, b] = transport.requests;
    expect(a!.path).toBe(b!.path);
    expect(a!.query.filter(([k]) => k !== 'requestid')).toEqual(b!.query.filter(([k]) => k !== 'requestid'));
    expectTypeOf(viaBuilder).toEqualTypeOf<HereNowResult<JsonValue>>();
  });

  test('every operation has one, with a setter per input field', async () => {
    const transport = createMemoryTransport();
    const presence = createPresence({ subscribeKey: 'sub', userId: 'me', transport });
    await presence.heartbeat().channels(['a']).heartbeat(60).state({ a: { x: 1 } }).execute();
    await presence.leave().channelGroups(['g']).execute();
    await presence.setPresenceState().channels(['a']).state({ k: 'v' }).userId('bob').execute().catch(() => undefined);
    await presence.getPresenceState().channels(['a']).userId('bob').execute().catch(() => undefined);
    await presence.whereNow().userId('bob').execute().catch(() => undefined);
    expect(transport.requests.map((r) => r.operation)).toEqual(['heartbeat', 'leave', 'setPresenceState', 'getPresenceState', 'whereNow']);
    expect(transport.requests[0]!.query).toContainEqual(['heartbeat', '60']);
    expect(transport.requests[2]!.path).toContain('/uuid/bob/data');
  });

  test('a builder is immutable: variants from one base do not leak into each other', async () => {
    const transport = createMemoryTransport({ respond: () => ({ body: hereNowBody }) });
    const presence = createPresence({ subscribeKey: 'sub', userId: 'me', transport });
    const base = presence.hereNow().channels(['lobby']);
    await base.includeState(true).execute();
    await base.execute();
    expect(transport.requests[0]!.query).toContainEqual(['state', '1']);
    expect(transport.requests[1]!.query).not.toContainEqual(['state', '1']);
  });

  test('execute takes call options, and validation still applies', async () => {
    const transport = createMemoryTransport({ respond: () => ({ body: hereNowBody, delayMs: 200 }) });
    const presence = createPresence({ subscribeKey: 'sub', userId: 'me', transport });
    await expect(presence.hereNow().channels(['lobby']).execute({ timeoutMs: 20 })).rejects.toMatchObject({ code: 'timeout' });
    await expect(presence.hereNow().limit(5000).execute()).rejects.toMatchObject({ code: 'validation_error', field: 'limit' });
  });
});
