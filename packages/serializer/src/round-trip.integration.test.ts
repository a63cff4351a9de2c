// End to end: each serializer through a real client, the HTTP transport and the emulator on loopback.
import { createPresence, PresenceSerializationError, type JsonValue, type PresenceClient, type StateSerializer } from '@presence/core';
import { createEmulator, type Emulator } from '@presence/emulator';
import { httpTransport } from '@presence/transport-http';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { bytes } from './bytes.js';
import { json } from './json.js';

const roomSchema = z.object({
  mood: z.enum(['happy', 'busy']),
  topic: z.string(),
  seats: z.array(z.object({ row: z.number().int(), taken: z.boolean() })),
});
type Room = z.output<typeof roomSchema>;

const room: Room = { mood: 'busy', topic: 'café ☕ & 東京 🎉 a/b?c=d#e+f%20', seats: [{ row: 1, taken: true }, { row: 2, taken: false }] };
const utf8 = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

let emulator: Emulator;
const clients: PresenceClient<never>[] = [];

beforeAll(async () => {
  emulator = await createEmulator({ port: 0, host: '127.0.0.1', hereNowCacheMs: 0 });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  emulator.reset();
});
afterAll(async () => {
  await emulator.close();
});

function connect<S>(userId: string, serializer?: StateSerializer<S>, invalidState?: 'throw' | 'omit'): PresenceClient<S> {
  const client = createPresence<S>({
    subscribeKey: 'demo',
    userId,
    transport: httpTransport({ origin: emulator.origin }),
    ...(serializer ? { serializer } : {}),
    ...(invalidState ? { invalidState } : {}),
  });
  clients.push(client as unknown as PresenceClient<never>);
  return client;
}

describe('json<Room>({ schema }) through the emulator', () => {
  test('setPresenceState → getPresenceState → hereNow with state gives the typed Room back', async () => {
    const presence = connect<Room>('user-1', json({ schema: roomSchema }));
    await presence.heartbeat({ channels: ['lobby', 'hall'], state: { hall: { mood: 'happy', topic: 'hall', seats: [] } } });

    const set = await presence.setPresenceState({ channels: ['lobby'], state: room });
    expect(set.state).toEqual(room);

    const single = await presence.getPresenceState({ channels: ['lobby'] });
    expect(single.state).toEqual([{ channelName: 'lobby', state: room }]);
    const multi = await presence.getPresenceState({ channels: ['lobby', 'hall'] });
    expect(multi.state).toEqual([
      { channelName: 'lobby', state: room },
      { channelName: 'hall', state: { mood: 'happy', topic: 'hall', seats: [] } },
    ]);

    const here = await presence.hereNow({ channels: ['lobby'], includeState: true });
    expect(here.channels).toEqual([{ name: 'lobby', occupancy: 1, occupants: [{ userId: 'user-1', state: room }] }]);
    const built = await presence.hereNow().channels(['lobby', 'hall']).includeState(true).execute();
    expect(built.channels.map((channel) => channel.occupants[0]?.state)).toEqual([room, { mood: 'happy', topic: 'hall', seats: [] }]);
  });

  test('an invalid state never reaches the server', async () => {
    const presence = connect<Room>('user-1', json({ schema: roomSchema }));
    const error = await presence.setPresenceState({ channels: ['lobby'], state: { ...room, seats: [{ row: 1.5, taken: true }] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PresenceSerializationError);
    expect(error).toMatchObject({ channel: 'lobby', userId: 'user-1', path: 'seats.0.row' });
    expect(emulator.stats().requests.total).toBe(0);
  });

  test("a stored state the schema refuses: 'throw' rejects, 'omit' keeps the occupant and reports it", async () => {
    // Another client, without a schema, stores a shape the Room schema does not accept.
    const other = connect<JsonValue>('user-2');
    await other.heartbeat({ channels: ['lobby'] });
    await other.setPresenceState({ channels: ['lobby'], state: { mood: 'asleep' } });
    const mine = connect<Room>('user-1', json({ schema: roomSchema }));
    await mine.setPresenceState({ channels: ['lobby'], state: room });
    await mine.heartbeat({ channels: ['lobby'] });

    const error = await mine.hereNow({ channels: ['lobby'], includeState: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PresenceSerializationError);
    expect(error).toMatchObject({ operation: 'hereNow', channel: 'lobby', userId: 'user-2', path: 'mood' });

    const lenient = connect<Room>('user-1', json({ schema: roomSchema }), 'omit');
    const dropped: string[] = [];
    lenient.events.on('stateDropped', (event) => dropped.push(`${event.operation} ${event.channel} ${event.userId} ${event.error.path}`));
    const here = await lenient.hereNow({ channels: ['lobby'], includeState: true });
    const occupants = [...(here.channels[0]?.occupants ?? [])].sort((a, b) => a.userId.localeCompare(b.userId));
    expect(occupants).toEqual([{ userId: 'user-1', state: room }, { userId: 'user-2' }]);
    expect(dropped).toEqual(['hereNow lobby user-2 mood']);
    const theirs = await lenient.getPresenceState({ channels: ['lobby'], userId: 'user-2' });
    expect(theirs.state).toEqual([{ channelName: 'lobby', state: undefined }]);
    expect(dropped).toHaveLength(2);
  });
});

describe('bytes() through the emulator', () => {
  test('setPresenceState → getPresenceState → hereNow with state gives the compact JSON bytes back', async () => {
    const presence = connect<Uint8Array>('user-1', bytes());
    await presence.heartbeat({ channels: ['lobby'] });
    // Formatted on the way in; the wire and everything read back is compact.
    const set = await presence.setPresenceState({ channels: ['lobby'], state: new TextEncoder().encode(JSON.stringify(room, null, 2)) });
    expect(set.state).toEqual(utf8(room));

    const got = await presence.getPresenceState({ channels: ['lobby'] });
    expect(got.state[0]?.state).toEqual(utf8(room));
    expect(JSON.parse(new TextDecoder().decode(got.state[0]?.state))).toEqual(room);

    const here = await presence.hereNow({ channels: ['lobby'], includeState: true });
    expect(here.channels[0]?.occupants).toEqual([{ userId: 'user-1', state: utf8(room) }]);
  });

  test('bytes and typed JSON clients read the same stored state', async () => {
    const writer = connect<Uint8Array>('user-1', bytes());
    await writer.setPresenceState({ channels: ['lobby'], state: utf8(room) });
    const reader = connect<Room>('user-9', json({ schema: roomSchema }));
    const got = await reader.getPresenceState({ channels: ['lobby'], userId: 'user-1' });
    expect(got.state[0]?.state).toEqual(room);
  });

  test('invalid UTF-8 never reaches the server', async () => {
    const presence = connect<Uint8Array>('user-1', bytes());
    const error = await presence.setPresenceState({ channels: ['lobby'], state: Uint8Array.from([0x7b, 0xfe, 0x7d]) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PresenceSerializationError);
    expect(emulator.stats().requests.total).toBe(0);
  });
});
