import { memoryCache, PresenceConfigurationError, type HereNowInput, type PresenceClient, type PresenceEventMap } from '@presence/core';
import { createEmulator, type Emulator } from '@presence/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { byChannel, client, eventually, SUBSCRIBE_KEY } from '../test/harness.js';
import { roster, type RosterPlugin } from './index.js';

// The roster against the emulator over loopback, through a real client (httpTransport): what it
// answers from memory must be what the emulator's own here-now answers.
let emulator: Emulator;
let upstream: PresenceClient;
const clients: PresenceClient[] = [];

beforeAll(async () => {
  emulator = await createEmulator({ subscribeHoldMs: 1000 });
  upstream = client(emulator.origin);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  emulator.reset();
});
afterAll(async () => {
  await upstream?.close();
  await emulator?.close();
});

const hereNowRequests = (): number => emulator.stats().requests.byOperation.hereNow;

async function join(userId: string, channels: string[], state?: Record<string, string>): Promise<void> {
  await upstream.heartbeat({ channels, heartbeat: 300, userId, ...(state ? { state: Object.fromEntries(channels.map((c) => [c, state])) } : {}) });
}

function withRoster(options: Parameters<typeof roster>[0]): { presence: PresenceClient; live: RosterPlugin; answers: PresenceEventMap['rosterAnswer'][] } {
  const live = roster({ upstreamCacheMs: 0, ...options });
  const presence = client(emulator.origin, [live, memoryCache({ ttlMs: 60_000 })]);
  clients.push(presence);
  const answers: PresenceEventMap['rosterAnswer'][] = [];
  presence.events.on('rosterAnswer', (a) => answers.push(a));
  return { presence, live, answers };
}

describe('roster() against the emulator', () => {
  it('answers here-now for watched channels from memory, in the REST answer\'s shape, with no request', async () => {
    for (let i = 0; i < 12; i++) await join(`u${String(i).padStart(2, '0')}`, ['lobby'], i % 2 ? { mood: `m${i}` } : undefined);
    await join('k1', ['kitchen'], { seat: '3' });
    const { presence, live, answers } = withRoster({ channels: ['lobby', 'kitchen', 'attic'] });
    await live.ready;
    const questions: HereNowInput[] = [
      { channels: ['lobby'] },
      { channels: ['lobby'], includeState: true },
      { channels: ['lobby'], includeUserIds: false },
      { channels: ['attic'] },
      { channels: ['kitchen', 'lobby', 'attic'], includeState: true },
      { channels: ['attic', 'kitchen'] },
      { channels: ['lobby'], limit: 0 },
      { channels: ['lobby', 'kitchen'], includeUserIds: false },
    ];
    const before = hereNowRequests();
    const fromRoster = [];
    for (const question of questions) fromRoster.push(await presence.hereNow(question));
    expect(hereNowRequests()).toBe(before);
    expect(answers.map((a) => a.result)).toEqual(questions.map(() => 'hit'));
    for (const [index, question] of questions.entries()) {
      const rest = await upstream.hereNow(question);
      const mine = fromRoster[index]!;
      expect({ totalChannels: mine.totalChannels, totalOccupancy: mine.totalOccupancy, names: mine.channels.map((c) => c.name) }, JSON.stringify(question)).toEqual({
        totalChannels: rest.totalChannels,
        totalOccupancy: rest.totalOccupancy,
        names: rest.channels.map((c) => c.name),
      });
      expect(byChannel(mine), JSON.stringify(question)).toEqual(byChannel(rest));
      expect(Object.isFrozen(mine)).toBe(true);
    }
  });

  it('pages occupants like the service: limit/offset per channel, whole occupancies, pages that never overlap', async () => {
    for (let i = 0; i < 10; i++) await join(`p${i}`, ['lobby']);
    const { presence, live } = withRoster({ channels: ['lobby'] });
    await live.ready;
    const seen: string[] = [];
    for (let offset = 0; offset < 10; offset += 4) {
      const page = await presence.hereNow({ channels: ['lobby'], limit: 4, offset });
      const rest = await upstream.hereNow({ channels: ['lobby'], limit: 4, offset });
      expect(page.channels[0]!.occupancy).toBe(10);
      expect(page.channels[0]!.occupants.length).toBe(rest.channels[0]!.occupants.length);
      seen.push(...page.channels[0]!.occupants.map((o) => o.userId));
    }
    expect(seen.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`).sort());
  });

  it('lets every question it cannot answer exactly go on down the stack unchanged', async () => {
    await join('a1', ['lobby']);
    await join('b1', ['elsewhere']);
    const { presence, live, answers } = withRoster({ channels: ['lobby'], upstreamCacheMs: 3000 });
    // Not ready yet: it waits for the watch to cover the service's cache time.
    const early = await presence.hereNow({ channels: ['lobby'] }, { fresh: true });
    expect(early.channels[0]!.occupancy).toBe(1);
    await live.ready;
    const before = hereNowRequests();
    await presence.hereNow({ channels: ['elsewhere'] }); // unwatched
    await presence.hereNow({ channels: ['lobby', 'elsewhere'] }); // partly watched
    await presence.hereNow({ channels: ['lobby'] }, { fresh: true }); // fresh: upstream, past every cache
    await presence.hereNow({ global: true }); // global
    expect(hereNowRequests() - before).toBe(4);
    expect(answers.map((a) => a.result)).toEqual(['unwatched', 'unwatched', 'global']);
  });

  it('older than maxStalenessMs (nothing heard from the service), it stops answering until it hears again', async () => {
    await join('s1', ['lobby']);
    let clock = 0;
    const { presence, live, answers } = withRoster({ channels: ['lobby'], maxStalenessMs: 1000, now: () => clock });
    await live.ready;
    await presence.hereNow({ channels: ['lobby'] });
    clock += 1500;
    const before = hereNowRequests();
    expect((await presence.hereNow({ channels: ['lobby'] })).channels[0]!.occupancy).toBe(1);
    expect(hereNowRequests()).toBe(before + 1);
    expect(live.stalenessMs()).toBeGreaterThanOrEqual(1500);
    await join('s2', ['lobby']); // an event: heard from the service again
    await eventually(async () => (await presence.hereNow({ channels: ['lobby'] })).channels[0]!.occupancy === 2 && answers.at(-1)?.result === 'hit', 5000);
    expect(answers.map((a) => a.result).slice(0, 2)).toEqual(['hit', 'stale']);
  });

  it('follows joins, leaves, timeouts and state changes, and streams them as versioned diffs', async () => {
    await join('a1', ['lobby']);
    const { presence, live } = withRoster({ channels: ['lobby'] });
    await live.ready;
    const controller = new AbortController();
    const diffs: Array<{ joined: readonly string[]; left: readonly string[]; updated: readonly string[]; version: number }> = [];
    const reading = (async () => {
      for await (const diff of live.changes({ signal: controller.signal })) diffs.push(diff);
    })();
    await join('a2', ['lobby'], { mood: 'new' });
    await join('a2', ['lobby'], { mood: 'later' });
    await upstream.leave({ channels: ['lobby'], userId: 'a1' });
    await eventually(async () => JSON.stringify(byChannel(await presence.hereNow({ channels: ['lobby'], includeState: true }))) === JSON.stringify(byChannel(await upstream.hereNow({ channels: ['lobby'], includeState: true }))), 5000);
    await eventually(() => diffs.some((d) => d.left.includes('a1')), 5000);
    controller.abort();
    await reading;
    expect(diffs.map((d) => d.version)).toEqual(diffs.map((_, i) => diffs[0]!.version + i));
    expect(diffs.flatMap((d) => d.joined)).toContain('a2');
    expect(live.changes({ signal: controller.signal })[Symbol.asyncIterator]).toBeTypeOf('function');
  });

  it('after a write through its own client, answers wait for the write\'s event: read-your-writes', async () => {
    const { presence, live } = withRoster({ channels: ['lobby'] });
    await live.ready;
    for (let i = 0; i < 5; i++) {
      await presence.heartbeat({ channels: ['lobby'], heartbeat: 300, state: { lobby: { round: String(i) } } });
      const mine = await presence.hereNow({ channels: ['lobby'], includeState: true });
      expect(mine.channels[0]!.occupants.find((o) => o.userId === 'roster-service')?.state).toEqual({ round: String(i) });
    }
  });

  it('watches a channel group: member channels and group questions answered from memory', async () => {
    await fetch(`${emulator.origin}/v1/channel-registration/sub-key/${SUBSCRIBE_KEY}/channel-group/floor1?add=r1,r2,r3&uuid=admin`);
    await join('g1', ['r1']);
    await join('g2', ['r2'], { x: '1' });
    const { presence, live, answers } = withRoster({ channelGroups: ['floor1'] });
    await live.ready;
    const before = hereNowRequests();
    const mine = await presence.hereNow({ channelGroups: ['floor1'], includeState: true });
    const one = await presence.hereNow({ channels: ['r2'], includeState: true });
    expect(hereNowRequests()).toBe(before);
    expect(answers.map((a) => a.result)).toEqual(['hit', 'hit']);
    expect(byChannel(mine)).toEqual(byChannel(await upstream.hereNow({ channelGroups: ['floor1'], includeState: true })));
    expect(byChannel(one)).toEqual(byChannel(await upstream.hereNow({ channels: ['r2'], includeState: true })));
    // r3 fills up: the group's events name it, and the roster reads it.
    await join('g3', ['r3']);
    await eventually(async () => {
      const now = await presence.hereNow({ channelGroups: ['floor1'] });
      return now.channels.some((c) => c.name === 'r3');
    }, 5000);
  });

  it('close() ends changes() readers and stops the watch; the client keeps working without it', async () => {
    const { presence, live } = withRoster({ channels: ['lobby'] });
    await live.ready;
    const iterator = live.changes();
    const pending = iterator.next();
    await presence.close();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await eventually(() => emulator.stats().subscribe.openLongPolls === 0, 5000);
  });

  it('refuses bad options with a typed error that names the option', () => {
    expect(() => roster({})).toThrow(PresenceConfigurationError);
    expect(() => roster({ channels: ['a,b'] })).toThrow(/channels\[0\]/);
    expect(() => roster({ channels: ['lobby-pnpres'] })).toThrow(/presence channel/);
    expect(() => roster({ channels: ['x'], maxStalenessMs: -1 })).toThrow(/maxStalenessMs/);
    expect(() => roster({ channels: ['x'], pageSize: 5000 })).toThrow(/pageSize/);
    // Infinity (or beyond a timer's reach) would make Node fire the group refresh every millisecond.
    expect(() => roster({ channelGroups: ['g'], groupRefreshMs: Number.POSITIVE_INFINITY })).toThrow(/groupRefreshMs/);
    expect(() => roster({ channelGroups: ['g'], groupRefreshMs: 3e9 })).toThrow(PresenceConfigurationError);
    const live = roster({ channels: ['x'] });
    clients.push(client(emulator.origin, [live]));
    expect(() => client(emulator.origin, [live])).toThrow(/already part of a client/);
  });
});
