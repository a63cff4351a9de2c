// Type tests: the serializer's state type reaches every input and result of the client.
// The expectTypeOf and @ts-expect-error lines are checked by `tsc -p tsconfig.json` (CI's typecheck);
// the calls also run against a memory transport, so the values are checked at run time too.
import {
  createPresence,
  type GetStateInfo,
  type GetStateResult,
  type HereNowResult,
  type JsonObject,
  type JsonValue,
  type PresenceClient,
  type SetStateResult,
  type StateSerializer,
} from '@presence/core';
import { createMemoryTransport, type Responder } from '@presence/core/testing';
import * as v from 'valibot';
import { afterEach, describe, expect, expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import { bytes } from './bytes.js';
import { json } from './json.js';

interface Room {
  mood: 'happy' | 'busy';
  seat?: number;
}

const zodRoom = z.object({ mood: z.enum(['happy', 'busy']), seat: z.number().optional() });
const valibotRoom = v.object({ mood: v.picklist(['happy', 'busy']), seat: v.optional(v.number()) });
const zodOther = z.object({ mood: z.number() });

const room: Room = { mood: 'busy', seat: 3 };

// Answers each operation with `stored` where a state belongs.
const respondWith = (stored: JsonObject): Responder => (request) => {
  const ok = { status: 200, message: 'OK', service: 'Presence' };
  if (request.operation === 'hereNow') return { body: { ...ok, occupancy: 1, uuids: [{ uuid: 'user-1', state: stored }] } };
  if (request.operation === 'heartbeat') return { body: ok };
  return { body: { ...ok, payload: stored, uuid: 'user-1', channel: 'lobby' } };
};

const clients: PresenceClient<never>[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

function make<S>(serializer: StateSerializer<S>, stored: JsonObject): PresenceClient<S> {
  const presence = createPresence({ subscribeKey: 'demo', userId: 'user-1', transport: createMemoryTransport({ respond: respondWith(stored) }), serializer });
  clients.push(presence as unknown as PresenceClient<never>);
  return presence;
}

describe('json<Room>() types the client', () => {
  test('state in and out is a Room', async () => {
    const presence = make(json<Room>(), { mood: 'busy', seat: 3 });
    expectTypeOf(presence).toEqualTypeOf<PresenceClient<Room>>();

    const set = await presence.setPresenceState({ channels: ['lobby'], state: room });
    expectTypeOf(set).toEqualTypeOf<SetStateResult<Room>>();
    expectTypeOf(set.state).toEqualTypeOf<Room>();

    const got = await presence.getPresenceState({ channels: ['lobby'] });
    expectTypeOf(got).toEqualTypeOf<GetStateResult<Room>>();
    expectTypeOf(got.state).toEqualTypeOf<readonly GetStateInfo<Room>[]>();
    expectTypeOf(got.state[0]!.state).toEqualTypeOf<Room | undefined>();

    const here = await presence.hereNow({ channels: ['lobby'], includeState: true });
    expectTypeOf(here).toEqualTypeOf<HereNowResult<Room>>();
    expectTypeOf(here.channels[0]!.occupants[0]!.state).toEqualTypeOf<Room | undefined>();

    const built = await presence.hereNow().channels(['lobby']).includeState(true).execute();
    expectTypeOf(built).toEqualTypeOf<HereNowResult<Room>>();
    const builtSet = await presence.setPresenceState().channels(['lobby']).state(room).execute();
    expectTypeOf(builtSet.state).toEqualTypeOf<Room>();

    await presence.heartbeat({ channels: ['lobby'], state: { lobby: room } });

    expect(set.state).toEqual(room);
    expect(got.state[0]?.state).toEqual(room);
    expect(here.channels[0]?.occupants[0]?.state).toEqual(room);
    expect(built.channels[0]?.occupants[0]?.state).toEqual(room);
  });

  test('a state that is not a Room does not compile', () => {
    const presence = make(json<Room>(), {});
    const wrong = () => {
      // @ts-expect-error: 'asleep' is not a Room mood
      void presence.setPresenceState({ channels: ['lobby'], state: { mood: 'asleep' } });
      // @ts-expect-error: a Room, not any JSON value
      void presence.setPresenceState({ channels: ['lobby'], state: [1, 2] });
      // @ts-expect-error: heartbeat state maps channels to Rooms
      void presence.heartbeat({ channels: ['lobby'], state: { lobby: { mood: 1 } } });
      // @ts-expect-error: the builder's setter takes a Room too
      void presence.setPresenceState().state({ seat: 'front' });
    };
    expectTypeOf(wrong).toBeFunction();
  });
});

describe('json({ schema }) infers the state from the schema output', () => {
  test('zod and valibot schemas give a Room-shaped state', async () => {
    const fromZod = make(json({ schema: zodRoom }), { mood: 'happy' });
    expectTypeOf(fromZod).toEqualTypeOf<PresenceClient<z.output<typeof zodRoom>>>();
    const fromValibot = make(json({ schema: valibotRoom }), { mood: 'happy' });
    expectTypeOf(fromValibot).toEqualTypeOf<PresenceClient<v.InferOutput<typeof valibotRoom>>>();

    const here = await fromValibot.hereNow({ channels: ['lobby'], includeState: true });
    expectTypeOf(here.channels[0]!.occupants[0]!.state).toEqualTypeOf<{ mood: 'happy' | 'busy'; seat?: number | undefined } | undefined>();
    expect(here.channels[0]?.occupants[0]?.state).toEqual({ mood: 'happy' });
  });

  test('json<Room>({ schema }) needs a schema whose output is a Room', () => {
    expectTypeOf(json<Room>({ schema: zodRoom })).toEqualTypeOf<StateSerializer<Room>>();
    expectTypeOf(json<Room>({ schema: valibotRoom })).toEqualTypeOf<StateSerializer<Room>>();
    // @ts-expect-error: this schema's output has a numeric mood, so it is not a Room schema
    json<Room>({ schema: zodOther });
    // A schema that transforms: the state type is its output.
    const seats = z.object({ seat: z.string().transform(Number) });
    expectTypeOf(json({ schema: seats })).toEqualTypeOf<StateSerializer<{ seat: number }>>();
  });
});

describe('bytes() and the default', () => {
  test('bytes() makes every state a Uint8Array', async () => {
    const presence = make(bytes(), { mood: 'busy' });
    expectTypeOf(presence).toEqualTypeOf<PresenceClient<Uint8Array>>();
    const set = await presence.setPresenceState({ channels: ['lobby'], state: new TextEncoder().encode('{"mood":"busy"}') });
    expectTypeOf(set.state).toEqualTypeOf<Uint8Array>();
    const got = await presence.getPresenceState({ channels: ['lobby'] });
    expectTypeOf(got.state[0]!.state).toEqualTypeOf<Uint8Array | undefined>();
    const here = await presence.hereNow({ channels: ['lobby'], includeState: true });
    expectTypeOf(here.channels[0]!.occupants[0]!.state).toEqualTypeOf<Uint8Array | undefined>();
    expect(new TextDecoder().decode(here.channels[0]?.occupants[0]?.state)).toBe('{"mood":"busy"}');
    const wrong = () => {
      // @ts-expect-error: bytes() takes bytes, not an object
      void presence.setPresenceState({ channels: ['lobby'], state: { mood: 'busy' } });
    };
    expectTypeOf(wrong).toBeFunction();
  });

  test('json() with no type argument takes any JSON object; no serializer keeps plain JSON values', () => {
    expectTypeOf(json()).toEqualTypeOf<StateSerializer<JsonObject>>();
    const plain = createPresence({ subscribeKey: 'demo', userId: 'user-1', transport: createMemoryTransport() });
    clients.push(plain as unknown as PresenceClient<never>);
    expectTypeOf(plain).toEqualTypeOf<PresenceClient<JsonValue>>();
  });
});
