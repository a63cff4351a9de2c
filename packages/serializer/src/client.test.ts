// The serializers inside a real client (memory transport): what is sent, what is refused, what comes back.
import { createPresence, PresenceSerializationError, type PresenceEventMap } from '@presence/core';
import { createMemoryTransport, type MemoryTransport } from '@presence/core/testing';
import * as v from 'valibot';
import { afterEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { bytes } from './bytes.js';
import { json } from './json.js';

const zodRoom = z.object({ mood: z.enum(['happy', 'busy']), items: z.array(z.object({ id: z.string() })) });
const valibotRoom = v.object({ mood: v.picklist(['happy', 'busy']), items: v.array(v.object({ id: v.string() })) });

const clients: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

function clientWith<S>(serializer: Parameters<typeof createPresence<S>>[0]['serializer'], transport: MemoryTransport, invalidState?: 'throw' | 'omit') {
  const client = createPresence<S>({ subscribeKey: 'demo', userId: 'user-1', transport, serializer, ...(invalidState ? { invalidState } : {}) });
  clients.push(client);
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<PresenceSerializationError> {
  const error = await promise.then(
    () => { throw new Error('expected the call to fail'); },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(PresenceSerializationError);
  return error as PresenceSerializationError;
}

const stateParam = (transport: MemoryTransport): string | undefined => transport.requests.at(-1)?.query.find(([name]) => name === 'state')?.[1];

describe.each([
  ['zod', zodRoom],
  ['valibot', valibotRoom],
] as const)('json({ schema: %s }) in a client', (vendor, schema) => {
  test('a valid state is sent as its JSON text', async () => {
    const transport = createMemoryTransport({ respond: () => ({ body: { status: 200, message: 'OK', payload: { mood: 'happy', items: [] }, service: 'Presence' } }) });
    const presence = clientWith(json({ schema }), transport);
    const result = await presence.setPresenceState({ channels: ['lobby'], state: { mood: 'happy', items: [] } });
    expect(stateParam(transport)).toBe('{"mood":"happy","items":[]}');
    expect(result.state).toEqual({ mood: 'happy', items: [] });
  });

  test('an invalid state is refused before anything is sent, naming channel, user and path', async () => {
    const transport = createMemoryTransport();
    const presence = clientWith(json({ schema }), transport);
    const error = await rejection(presence.setPresenceState({ channels: ['lobby'], state: { mood: 'happy', items: [{ id: 7 }] } as never }));
    expect(transport.requests.length).toBe(0);
    expect(error.channel).toBe('lobby');
    expect(error.userId).toBe('user-1');
    expect(error.path).toBe('items.0.id');
    expect(error.operation).toBe('setPresenceState');
    expect(error.message).toContain('"items.0.id"');
    expect(error.message).toContain(vendor);
    expect(error.message).toContain('channel "lobby"');
    expect(error.message).toContain('user "user-1"');
  });

  test('a heartbeat carrying an invalid state for one channel sends nothing', async () => {
    const transport = createMemoryTransport();
    const presence = clientWith(json({ schema }), transport);
    const error = await rejection(
      presence.heartbeat({ channels: ['a', 'b'], state: { a: { mood: 'busy', items: [] }, b: { mood: 'asleep', items: [] } as never } }),
    );
    expect(transport.requests.length).toBe(0);
    expect(error.channel).toBe('b');
    expect(error.path).toBe('mood');
  });
});

describe('states in responses that the schema refuses', () => {
  const hereNowBody = {
    status: 200,
    message: 'OK',
    service: 'Presence',
    occupancy: 2,
    uuids: [
      { uuid: 'good', state: { mood: 'busy', items: [{ id: 'x' }] } },
      { uuid: 'bad', state: { mood: 'asleep', items: [] } },
    ],
  };

  test("invalidState: 'throw' (the default) rejects the call, naming channel, user and path", async () => {
    const transport = createMemoryTransport({ respond: () => ({ body: hereNowBody }) });
    const presence = clientWith(json({ schema: zodRoom }), transport);
    const error = await rejection(presence.hereNow({ channels: ['lobby'], includeState: true }));
    expect(error).toMatchObject({ channel: 'lobby', userId: 'bad', path: 'mood', operation: 'hereNow' });
  });

  test("invalidState: 'omit' keeps the occupant without its state and emits stateDropped", async () => {
    const transport = createMemoryTransport({ respond: () => ({ body: hereNowBody }) });
    const presence = clientWith(json({ schema: valibotRoom }), transport, 'omit');
    const dropped: PresenceEventMap['stateDropped'][] = [];
    presence.events.on('stateDropped', (event) => dropped.push(event));
    const result = await presence.hereNow({ channels: ['lobby'], includeState: true });
    expect(result.channels[0]?.occupants).toEqual([{ userId: 'good', state: { mood: 'busy', items: [{ id: 'x' }] } }, { userId: 'bad' }]);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ operation: 'hereNow', channel: 'lobby', userId: 'bad' });
    expect(dropped[0]?.error).toBeInstanceOf(PresenceSerializationError);
    expect(dropped[0]?.error.path).toBe('mood');
  });

  test("getPresenceState with invalidState: 'omit' gives an undefined state for the refused channel", async () => {
    const body = { status: 200, message: 'OK', service: 'Presence', uuid: 'user-1', payload: { channels: { a: { mood: 'happy', items: [] }, b: { mood: 3 } } } };
    const transport = createMemoryTransport({ respond: () => ({ body }) });
    const presence = clientWith(json({ schema: zodRoom }), transport, 'omit');
    const dropped: string[] = [];
    presence.events.on('stateDropped', (event) => dropped.push(`${event.channel}/${event.userId}/${event.error.path}`));
    const result = await presence.getPresenceState({ channels: ['a', 'b'] });
    expect(result.state).toEqual([{ channelName: 'a', state: { mood: 'happy', items: [] } }, { channelName: 'b', state: undefined }]);
    expect(dropped).toEqual(['b/user-1/mood']);
  });
});

describe('bytes() in a client', () => {
  test('sends the compact JSON of the bytes and returns states as bytes', async () => {
    const stored = { mood: 'café ☕', n: [1, 2] };
    const transport = createMemoryTransport({ respond: () => ({ body: { status: 200, message: 'OK', service: 'Presence', payload: stored, uuid: 'user-1', channel: 'lobby' } }) });
    const presence = clientWith(bytes(), transport);
    await presence.setPresenceState({ channels: ['lobby'], state: new TextEncoder().encode('{ "mood": "café ☕", "n": [1, 2] }') });
    expect(stateParam(transport)).toBe('{"mood":"café ☕","n":[1,2]}');
    const got = await presence.getPresenceState({ channels: ['lobby'] });
    expect(got.state[0]?.state).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(got.state[0]?.state)).toBe(JSON.stringify(stored));
  });

  test('invalid UTF-8 is refused before sending, placed at the channel and user', async () => {
    const transport = createMemoryTransport();
    const presence = clientWith(bytes(), transport);
    const error = await rejection(presence.setPresenceState({ channels: ['lobby'], state: Uint8Array.from([0x7b, 0xff, 0x7d]) }));
    expect(transport.requests.length).toBe(0);
    expect(error).toMatchObject({ channel: 'lobby', userId: 'user-1' });
    expect(error.message).toContain('not valid UTF-8');
  });
});
