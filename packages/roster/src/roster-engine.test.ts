import { afterEach, describe, expect, it } from 'vitest';
import { FakeWorld } from '../test/fake-world.js';
import { createRosterEngine, type RosterEngine, type RosterEngineOptions, type SeedReport } from './roster-engine.js';
import type { RosterDiff } from './roster-state.js';

type State = Record<string, string>;
const engines: RosterEngine<State>[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});

function start(world: FakeWorld, options: Partial<RosterEngineOptions<State>> = {}) {
  const diffs: RosterDiff<State>[] = [];
  const seeds: SeedReport[] = [];
  const engine = createRosterEngine<State>({
    source: world,
    channels: ['a', 'b'],
    channelGroups: [],
    upstreamCacheMs: 0,
    pageSize: 1000,
    groupRefreshMs: 60_000,
    now: () => performance.now(),
    onDiff: (diff) => diffs.push(diff),
    onSeed: (report) => seeds.push(report),
    ...options,
  });
  engines.push(engine);
  return { engine, diffs, seeds };
}

const settle = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error('condition not met in time');
    await settle(5);
  }
}

// By name, as the fake world shows it: occupant order is checked against the emulator (answer-equality).
const view = (engine: RosterEngine<State>, channel: string) => {
  const held = engine.state.get(channel);
  return held && { occupancy: held.occupancy, occupants: [...held.occupants].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0)) };
};

describe('the roster recipe', () => {
  it('seeds every watched channel, then follows events exactly', async () => {
    const world = new FakeWorld();
    world.join('a', 'u1', { mood: 'ok' });
    world.join('a', 'u2');
    const { engine, diffs, seeds } = start(world);
    await engine.ready;
    expect(view(engine, 'a')).toEqual(world.view('a'));
    expect(view(engine, 'b')).toEqual({ occupancy: 0, occupants: [] });
    expect(engine.knows('a') && engine.knows('b')).toBe(true);
    expect(seeds).toMatchObject([{ reason: 'initial', outcome: 'success', channels: 2 }]);

    world.join('b', 'u3');
    world.setState('a', 'u2', { mood: 'busy' });
    world.leave('a', 'u1', 'timeout');
    await eventually(() => engine.state.get('a')!.occupancy === 1 && engine.state.get('b')!.occupancy === 1);
    expect(view(engine, 'a')).toEqual(world.view('a'));
    expect(view(engine, 'b')).toEqual(world.view('b'));
    expect(diffs.slice(1).map((d) => [d.channel, d.joined, d.updated, d.left, d.timedOut])).toEqual([
      ['b', ['u3'], [], [], []],
      ['a', [], ['u2'], [], []],
      ['a', [], [], [], ['u1']],
    ]);
    expect(diffs.map((d) => d.version)).toEqual(diffs.map((_, i) => i + 1));
    expect(world.reads).toBe(1);
  });

  it("covers the service's here-now cache: a snapshot up to upstreamCacheMs old still gives an exact roster", async () => {
    for (const upstreamCacheMs of [0, 300]) {
      const world = new FakeWorld(300);
      world.join('a', 'early');
      // Someone reads here-now: the service caches that answer for 300 ms…
      await world.hereNow({ channelGroups: [] }, { fresh: true });
      for await (const _ of world.hereNowPages({ channels: ['a', 'b'], includeState: true, pageSize: 1000 }, { fresh: true })) void _;
      // …then u2 joins before the roster connects: its event is never seen by the roster.
      world.join('a', 'u2');
      const { engine } = start(world, { upstreamCacheMs });
      await engine.ready;
      const ids = engine.state.get('a')!.occupants.map((o) => o.userId);
      // Without covering the cache time the cached snapshot misses u2 for good; covering it, the roster is exact.
      if (upstreamCacheMs === 0) expect(ids).toEqual(['early']);
      else expect(ids).toEqual(['early', 'u2']);
      await engine.close();
    }
  });

  it('a hereNowRefresh costs one read: it waits until the service cannot answer from before the refresh', async () => {
    const world = new FakeWorld(300);
    const { engine, seeds } = start(world, { upstreamCacheMs: 300 });
    await engine.ready;
    const before = world.reads;
    world.silently('a', (room) => {
      for (let i = 0; i < 5; i++) room.set(`bulk${i}`, undefined);
    });
    world.interval('a', { hereNowRefresh: true });
    await eventually(() => engine.knows('a') && engine.state.get('a')!.occupancy === 5);
    expect(view(engine, 'a')).toEqual(world.view('a'));
    // Read at once, the answer would be doubted (it may predate the refresh) and read again: two reads, one wasted.
    expect(world.reads - before).toBe(1);
    expect(seeds.at(-1)).toMatchObject({ reason: 'refresh', outcome: 'success' });
  });

  it('replays events buffered during the read on top of the snapshot', async () => {
    const world = new FakeWorld();
    world.join('a', 'u1');
    world.readDelayMs = 50;
    const { engine } = start(world);
    await eventually(() => world.readsInFlight === 1);
    // These happen while the read is in flight: the snapshot may or may not include them.
    world.join('a', 'u2');
    world.leave('a', 'u1');
    world.setState('a', 'u2', { mood: 'x' });
    await engine.ready;
    await settle();
    expect(view(engine, 'a')).toEqual(world.view('a'));
  });

  it('re-reads a channel on hereNowRefresh and on an event that does not add up; never two reads at once', async () => {
    const world = new FakeWorld();
    const { engine, seeds } = start(world);
    await engine.ready;
    world.readDelayMs = 30;
    // Interval mode: people came and went without per-user events.
    world.silently('a', (room) => {
      for (let i = 0; i < 50; i++) room.set(`bulk${i}`, undefined);
    });
    world.interval('a', { hereNowRefresh: true });
    await settle(5);
    expect(engine.knows('a')).toBe(false); // waiting for its re-read: not answered from memory
    world.silently('b', (room) => room.set('quiet', undefined));
    world.interval('b', {}); // no deltas, but an occupancy the roster does not have
    for (let i = 0; i < 5; i++) world.interval('a', { hereNowRefresh: true });
    await eventually(() => engine.knows('a') && engine.knows('b') && engine.state.get('a')!.occupancy === 50);
    expect(view(engine, 'a')).toEqual(world.view('a'));
    expect(view(engine, 'b')).toEqual(world.view('b'));
    expect(world.maxReadsInFlight).toBe(1);
    expect(seeds.map((s) => s.reason)).toEqual(expect.arrayContaining(['refresh']));
    // The refreshes asked while one read was running were folded into few reads, not one each.
    expect(world.reads).toBeLessThan(1 + 7);
  });

  it('applies interval deltas without reading again when they add up', async () => {
    const world = new FakeWorld();
    world.join('a', 'u1');
    const { engine } = start(world);
    await engine.ready;
    const reads = world.reads;
    world.silently('a', (room) => {
      room.delete('u1');
      room.set('u2', undefined);
      room.set('u3', undefined);
    });
    world.interval('a', { joined: ['u2', 'u3'], timedOut: ['u1'] });
    await eventually(() => engine.state.get('a')!.occupancy === 2);
    expect(view(engine, 'a')).toEqual(world.view('a'));
    expect(world.reads).toBe(reads);
  });

  it('re-seeds after a reconnect: events lost meanwhile are recovered, and nothing is answered until then', async () => {
    const world = new FakeWorld();
    world.join('a', 'u1');
    const { engine, seeds } = start(world);
    await engine.ready;
    world.readDelayMs = 40;
    world.partitioned = true;
    world.join('a', 'lost');
    world.leave('a', 'u1');
    world.partitioned = false;
    world.dropConnections();
    await eventually(() => !engine.knows('a'));
    await eventually(() => engine.knows('a'));
    expect(view(engine, 'a')).toEqual(world.view('a'));
    expect(seeds.map((s) => s.reason)).toEqual(['initial', 'reconnect']);
  });

  it('retries a failed read with backoff and reports it', async () => {
    const world = new FakeWorld();
    world.failReads = 1;
    world.join('a', 'u1');
    const { engine, seeds } = start(world);
    await engine.ready;
    expect(seeds.map((s) => s.outcome)).toEqual(['error', 'success']);
    expect(view(engine, 'a')).toEqual(world.view('a'));
  });

  it('reads a big channel page by page', async () => {
    const world = new FakeWorld();
    for (let i = 0; i < 25; i++) world.join('a', `u${String(i).padStart(2, '0')}`, i % 3 ? undefined : { n: String(i) });
    const { engine } = start(world, { pageSize: 10 });
    await engine.ready;
    expect(view(engine, 'a')).toEqual(world.view('a'));
    expect(world.reads).toBe(3);
  });

  it('reads many channels in several requests, one after another, so none outgrows the URL limit', async () => {
    const world = new FakeWorld();
    const channels = Array.from({ length: 250 }, (_, i) => `c${i}`);
    world.join('c249', 'last');
    const { engine } = start(world, { channels });
    await engine.ready;
    expect(world.reads).toBe(3);
    expect(world.maxReadsInFlight).toBe(1);
    expect(view(engine, 'c249')).toEqual(world.view('c249'));
  });

  it('watches groups: members from a group read, a channel the group gains, one it loses', async () => {
    const world = new FakeWorld();
    world.groups.set('g', new Set(['r1', 'r2']));
    world.join('r1', 'u1');
    const { engine } = start(world, { channels: [], channelGroups: ['g'] });
    await engine.ready;
    expect(engine.groupChannels('g')).toEqual(['r1']);
    expect(view(engine, 'r1')).toEqual(world.view('r1'));
    // r2 fills up: its events carry the group, and the roster reads it.
    world.join('r2', 'u2');
    await eventually(() => engine.knows('r2'));
    expect([...engine.groupChannels('g')!].sort()).toEqual(['r1', 'r2']);
    expect(view(engine, 'r2')).toEqual(world.view('r2'));
    // r3 joins the group already occupied, then r1 leaves the group: the next group read finds both.
    world.join('r3', 'u3');
    world.groups.get('g')!.add('r3');
    world.groups.get('g')!.delete('r1');
    await engine.close();
    const again = start(world, { channels: [], channelGroups: ['g'], groupRefreshMs: 30 });
    await again.engine.ready;
    await eventually(() => again.engine.groupChannels('g')?.includes('r3') ?? false);
    expect([...again.engine.groupChannels('g')!].sort()).toEqual(['r2', 'r3']);
  });

  it('a group that loses a channel forgets it at the next group read, reporting its occupants gone', async () => {
    const world = new FakeWorld();
    world.groups.set('g', new Set(['r1', 'r2']));
    world.join('r1', 'u1');
    world.join('r2', 'u2');
    const { engine, diffs } = start(world, { channels: [], channelGroups: ['g'], groupRefreshMs: 40 });
    await engine.ready;
    world.groups.get('g')!.delete('r1');
    await eventually(() => !engine.state.has('r1'));
    expect(engine.groupChannels('g')).toEqual(['r2']);
    expect(diffs.at(-1)).toMatchObject({ channel: 'r1', left: ['u1'], occupancy: 0 });
  });

  it('close() ends the watch and settles a pending ready', async () => {
    const world = new FakeWorld();
    world.readDelayMs = 10_000;
    const { engine } = start(world);
    await eventually(() => world.watching === 1);
    await engine.close();
    await expect(engine.ready).rejects.toThrow(/closed before it was seeded/);
    expect(world.watching).toBe(0);
  });

  it('a second close() waits for the first to finish: whoever awaits close() finds nothing left open', async () => {
    const world = new FakeWorld();
    let watchEnded = false;
    // A watch whose connection takes a moment to tear down, as a real socket does.
    const slowToEnd = Object.assign(Object.create(world) as FakeWorld, {
      async *watch(options: Parameters<FakeWorld['watch']>[0]) {
        try {
          yield* world.watch(options);
        } finally {
          await settle(30);
          watchEnded = true;
        }
      },
    });
    const { engine } = start(world, { source: slowToEnd });
    await eventually(() => world.watching === 1);
    void engine.close();
    await engine.close();
    expect(watchEnded).toBe(true);
  });
});
