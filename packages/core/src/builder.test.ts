import { describe, expect, expectTypeOf, test } from 'vitest';
import { createPresence, type Builder, type HereNowInput, type HereNowResult, type JsonValue, type PresenceClient, type WhereNowInput, type WhereNowResult } from './index.js';
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
    await expect(presence.hereNow().channels(['lobby']).limit(5000).execute()).rejects.toMatchObject({ code: 'validation_error', field: 'limit' });
  });

  test('awaiting the zero-argument form runs the call with the defaults; it never resolves to a builder', async () => {
    const transport = createMemoryTransport({ respond: () => ({ body: { status: 200, message: 'OK', payload: { channels: ['b', 'a'] }, service: 'Presence' } }) });
    const presence = createPresence({ subscribeKey: 'sub', userId: 'me', transport });
    const result = await presence.whereNow();
    expect(result).toEqual({ channels: ['a', 'b'] });
    expectTypeOf(result).toEqualTypeOf<WhereNowResult>();
    expect(transport.requests[0]!.path).toBe('/v2/presence/sub-key/sub/uuid/me');
    // A configured builder awaits the same way, and every await is a new call.
    const bob = presence.whereNow().userId('bob');
    await bob;
    await bob;
    expect(transport.requests.map((r) => r.path)).toEqual(['/v2/presence/sub-key/sub/uuid/me', '/v2/presence/sub-key/sub/uuid/bob', '/v2/presence/sub-key/sub/uuid/bob']);
    // then/catch/finally behave as on a promise.
    await expect(presence.whereNow().then((r) => r.channels.length)).resolves.toBe(2);
    let finished = false;
    await presence.whereNow().finally(() => (finished = true));
    expect(finished).toBe(true);
  });

  test('awaiting a builder whose defaults are not enough rejects with the validation error, and sends nothing', async () => {
    const transport = createMemoryTransport();
    const presence = createPresence({ subscribeKey: 'sub', userId: 'me', transport });
    await expect(presence.hereNow()).rejects.toMatchObject({ code: 'validation_error', field: 'channels', rule: 'required' });
    await expect(presence.leave()).rejects.toMatchObject({ code: 'validation_error', field: 'channels' });
    expect(await presence.heartbeat().catch((e: unknown) => (e as Error).name)).toBe('PresenceValidationError');
    expect(transport.requests).toHaveLength(0);
  });

  test('types: a builder is awaitable to the operation result', () => {
    type Client = PresenceClient<{ mood: string }>;
    expectTypeOf<Awaited<ReturnType<PresenceClient['whereNow']>>>().toEqualTypeOf<WhereNowResult>();
    expectTypeOf<Awaited<Builder<HereNowInput, HereNowResult>>>().toEqualTypeOf<HereNowResult>();
    expectTypeOf<Awaited<ReturnType<Client['getPresenceState']>>>().toEqualTypeOf<{ readonly state: readonly { readonly channelName: string; readonly state: { mood: string } | undefined }[] }>();
    expectTypeOf<Builder<WhereNowInput, WhereNowResult>>().toExtend<PromiseLike<WhereNowResult>>();
  });

  test('types: a client for a specific state type is a client for unknown state (a helper taking any client needs no any)', () => {
    type Mood = { mood: 'happy' | 'away' };
    expectTypeOf<PresenceClient<Mood>>().toExtend<PresenceClient<unknown>>();
    expectTypeOf<PresenceClient<JsonValue>>().toExtend<PresenceClient<unknown>>();
    // A helper written once for every client:
    const occupancy = async (client: PresenceClient<unknown>, channel: string) => (await client.hereNow({ channels: [channel] })).channels[0]?.occupancy ?? 0;
    const transport = createMemoryTransport({ respond: () => ({ body: { status: 200, message: 'OK', occupancy: 2, uuids: ['a', 'b'], service: 'Presence' } }) });
    const moods: PresenceClient<Mood> = createPresence<Mood>({ subscribeKey: 'sub', userId: 'me', transport });
    return expect(occupancy(moods, 'lobby')).resolves.toBe(2);
  });
});
