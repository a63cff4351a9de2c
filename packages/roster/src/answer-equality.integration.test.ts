import { type HereNowInput, type PresenceClient } from '@presence/core';
import { createEmulator, type Emulator } from '@presence/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, eventually, SUBSCRIBE_KEY } from '../test/harness.js';
import { roster, type RosterPlugin } from './index.js';

// The roster's here-now answer must BE the REST answer (DESIGN §7): same result, field for field,
// occupant order and paging included, so a caller paging through a channel never sees a page overlap
// or skip when one page comes from memory and the next from the service. Users join out of name
// order on purpose: the service pages over its own order (join order on the emulator), not by name.
let emulator: Emulator;
let upstream: PresenceClient;
let presence: PresenceClient;
let live: RosterPlugin;

async function join(userId: string, channels: string[], state?: Record<string, string>): Promise<void> {
  await upstream.heartbeat({ channels, heartbeat: 300, userId, ...(state ? { state: Object.fromEntries(channels.map((c) => [c, state])) } : {}) });
}

const questions: HereNowInput[] = [
  { channels: ['lobby'] },
  { channels: ['lobby'], includeState: true },
  { channels: ['lobby'], includeUserIds: false },
  { channels: ['lobby'], includeUserIds: false, includeState: true },
  { channels: ['attic'] },
  { channels: ['attic'], includeState: true },
  { channels: ['attic'], includeUserIds: false },
  { channels: ['kitchen', 'lobby', 'attic'], includeState: true },
  { channels: ['attic', 'kitchen'] },
  { channels: ['lobby', 'kitchen'], includeUserIds: false },
  { channelGroups: ['floor'] },
  { channelGroups: ['floor'], includeState: true },
  { channelGroups: ['floor'], includeUserIds: false },
  { channels: ['lobby', 'attic'], channelGroups: ['floor'], includeState: true },
  { channels: ['r2'], channelGroups: ['floor'] },
  { channels: ['lobby'], limit: 0 },
  { channels: ['lobby', 'kitchen'], limit: 0, includeState: true },
  ...[0, 3, 6, 9, 30].map((offset) => ({ channels: ['lobby'], limit: 3, offset })),
  ...[0, 2, 4].map((offset) => ({ channels: ['lobby'], limit: 2, offset, includeState: true })),
  { channels: ['lobby', 'kitchen'], limit: 2, offset: 1, includeState: true },
  { channelGroups: ['floor'], limit: 1, offset: 1 },
  { channels: ['attic'], limit: 5, offset: 5 },
];

beforeAll(async () => {
  emulator = await createEmulator({ subscribeHoldMs: 1000 });
  upstream = client(emulator.origin);
  await fetch(`${emulator.origin}/v1/channel-registration/sub-key/${SUBSCRIBE_KEY}/channel-group/floor?add=r1,r2,r3&uuid=admin`);
  const lobby = ['zoe', 'adam', 'mia', 'bob', 'yan', 'carl', 'xia', 'dan', 'eve', 'walt'];
  for (const [i, userId] of lobby.entries()) await join(userId, ['lobby'], i % 3 === 0 ? { seat: String(i) } : undefined);
  await join('kim', ['kitchen'], { mood: 'hungry' });
  await join('rob', ['r2', 'r1']);
  await join('ann', ['r1'], { desk: '4' });
  live = roster({ channels: ['lobby', 'kitchen', 'attic'], channelGroups: ['floor'], upstreamCacheMs: 0 });
  presence = client(emulator.origin, [live]);
  await live.ready;
});
afterAll(async () => {
  await presence?.close();
  await upstream?.close();
  await emulator?.close();
});

async function compareAll(): Promise<void> {
  for (const question of questions) {
    const before = emulator.stats().requests.byOperation.hereNow;
    const mine = await presence.hereNow(question);
    expect(emulator.stats().requests.byOperation.hereNow, `answered from memory: ${JSON.stringify(question)}`).toBe(before);
    expect(mine, JSON.stringify(question)).toStrictEqual(await upstream.hereNow(question));
  }
}

describe("the roster's here-now answer equals the emulator's REST answer", () => {
  it('after seeding, for every flag, channel mix, group and page', compareAll);

  it('after live joins, leaves, state changes and re-joins (occupant order follows the service)', async () => {
    await join('aaron', ['lobby']);
    await join('bea', ['lobby', 'r3'], { seat: '99' });
    await upstream.leave({ channels: ['lobby'], userId: 'mia' });
    await join('mia', ['lobby']);
    await upstream.setPresenceState({ channels: ['lobby'], userId: 'adam', state: { seat: 'moved' } });
    const expected = await upstream.hereNow({ channels: ['lobby'], includeState: true });
    await eventually(async () => JSON.stringify(await presence.hereNow({ channels: ['lobby'], includeState: true })) === JSON.stringify(expected), 5000);
    await eventually(async () => (await presence.hereNow({ channelGroups: ['floor'] })).channels.some((c) => c.name === 'r3'), 5000);
    await compareAll();
  });
});
