import { describe, expect, test } from 'vitest';
import { createPresence, type JsonValue } from '../index.js';
import { createMemoryTransport } from '../testing.js';

// Results come in a deterministic order whatever the server's key order: the channels asked
// about first, in the order asked, then the rest (group members, global) by name (notes §3.1, §3.4).

const entry = (occupancy: number) => ({ occupancy, uuids: Array.from({ length: occupancy }, (_, i) => `u${i}`) });

function client(body: JsonValue) {
  const transport = createMemoryTransport({ respond: () => ({ body }) });
  return createPresence({ subscribeKey: 'sub', userId: 'me', transport });
}

describe('result order', () => {
  test('here-now: requested channels in request order, then the others by name, whatever order the server sent', async () => {
    // The server's keys are in neither request nor name order.
    const channels = { zeta: entry(1), c: entry(2), mid: entry(1), a: entry(3), b: entry(1) };
    const presence = client({ status: 200, message: 'OK', service: 'Presence', payload: { channels, total_channels: 5, total_occupancy: 8 } });
    const result = await presence.hereNow({ channels: ['c', 'a', 'b'], channelGroups: ['g'] });
    expect(result.channels.map((c) => c.name)).toEqual(['c', 'a', 'b', 'mid', 'zeta']);
  });

  test('here-now: an empty requested channel keeps its place in the request order', async () => {
    const presence = client({ status: 200, message: 'OK', service: 'Presence', payload: { channels: { b: entry(1), a: entry(1) }, total_channels: 2, total_occupancy: 2 } });
    const result = await presence.hereNow({ channels: ['b', 'empty', 'a'] });
    expect(result.channels.map((c) => [c.name, c.occupancy])).toEqual([['b', 1], ['empty', 0], ['a', 1]]);
  });

  test('get-state: requested channels in request order, then group members by name', async () => {
    const presence = client({ status: 200, message: 'OK', service: 'Presence', payload: { channels: { y: { v: 1 }, b: { v: 2 }, x: { v: 3 }, a: { v: 4 } } } });
    const result = await presence.getPresenceState({ channels: ['b', 'a'], channelGroups: ['g'] });
    expect(result.state.map((s) => s.channelName)).toEqual(['b', 'a', 'x', 'y']);
  });
});
