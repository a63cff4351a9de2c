import { describe, expect, it } from 'vitest';
import type { PresenceEvent } from '@presence/core';
import { RosterState, type RosterDiff } from './roster-state.js';

type State = { mood: string };
let clock = 0;
const base = (channel: string, occupancy: number) => ({ channel, occupancy, timestamp: 1_700_000_000, timetoken: String(17_000_000_000_000_000n + BigInt(++clock)) });
const join = (channel: string, userId: string, occupancy = 0): PresenceEvent<State> => ({ type: 'join', userId, ...base(channel, occupancy) });
const leave = (channel: string, userId: string, occupancy = 0): PresenceEvent<State> => ({ type: 'leave', userId, ...base(channel, occupancy) });
const timeout = (channel: string, userId: string, occupancy = 0): PresenceEvent<State> => ({ type: 'timeout', userId, ...base(channel, occupancy) });
const stateChange = (channel: string, userId: string, mood: string, occupancy = 0): PresenceEvent<State> => ({ type: 'stateChange', userId, state: { mood }, ...base(channel, occupancy) });
const interval = (channel: string, occupancy: number, deltas: { joined?: string[]; left?: string[]; timedOut?: string[]; hereNowRefresh?: boolean } = {}): PresenceEvent<State> => ({
  type: 'interval',
  joined: deltas.joined ?? [],
  left: deltas.left ?? [],
  timedOut: deltas.timedOut ?? [],
  hereNowRefresh: deltas.hereNowRefresh ?? false,
  ...base(channel, occupancy),
});
const ids = (roster: RosterState<State>, channel: string): string[] => roster.get(channel)?.occupants.map((o) => o.userId) ?? [];

describe('RosterState', () => {
  it('ignores events of channels not yet seeded, and answers nothing for them', () => {
    const roster = new RosterState<State>();
    expect(roster.apply(join('a', 'u1', 1))).toEqual({ diff: undefined, resync: false });
    expect(roster.has('a')).toBe(false);
    expect(roster.get('a')).toBeUndefined();
    expect(roster.version).toBe(0);
  });

  it('seeds from a snapshot and reports everyone as joined, with their states', () => {
    const roster = new RosterState<State>();
    const diff = roster.seed('a', [{ userId: 'u2', state: { mood: 'ok' } }, { userId: 'u1' }]);
    expect(diff).toMatchObject({ channel: 'a', joined: ['u2', 'u1'], left: [], timedOut: [], updated: [], occupancy: 2, version: 1 });
    expect(diff!.states).toEqual({ u2: { mood: 'ok' } });
    // In the snapshot's order (the service's), not by name: here-now pages over that order.
    expect(roster.get('a')).toEqual({ occupancy: 2, occupants: [{ userId: 'u2', state: { mood: 'ok' } }, { userId: 'u1' }] });
    roster.apply(join('a', 'u0', 3));
    expect(roster.get('a')!.occupants.map((o) => o.userId)).toEqual(['u2', 'u1', 'u0']);
    expect(Object.isFrozen(roster.get('a')!.occupants)).toBe(true);
  });

  it('an empty seeded channel is known (occupancy 0), and its seed is no change', () => {
    const roster = new RosterState<State>();
    expect(roster.seed('a', [])).toBeUndefined();
    expect(roster.has('a')).toBe(true);
    expect(roster.get('a')).toEqual({ occupancy: 0, occupants: [] });
  });

  it('applies join, leave, timeout and state changes, telling leave from timeout', () => {
    const roster = new RosterState<State>();
    roster.seed('a', [{ userId: 'u1' }]);
    expect(roster.apply(join('a', 'u2', 2), { check: true })).toMatchObject({ diff: { joined: ['u2'], occupancy: 2, version: 2 }, resync: false });
    expect(roster.apply(stateChange('a', 'u2', 'busy', 2), { check: true }).diff).toMatchObject({ updated: ['u2'], states: { u2: { mood: 'busy' } }, version: 3 });
    expect(roster.get('a')!.occupants).toEqual([{ userId: 'u1' }, { userId: 'u2', state: { mood: 'busy' } }]);
    expect(roster.apply(leave('a', 'u1', 1)).diff).toMatchObject({ left: ['u1'], timedOut: [], occupancy: 1, version: 4 });
    expect(roster.apply(timeout('a', 'u2', 0)).diff).toMatchObject({ left: [], timedOut: ['u2'], occupancy: 0, version: 5 });
    expect(roster.get('a')).toEqual({ occupancy: 0, occupants: [] });
  });

  it('is idempotent: a join of someone present, a leave of someone absent, an equal state change a no-op', () => {
    const roster = new RosterState<State>();
    roster.seed('a', [{ userId: 'u1', state: { mood: 'ok' } }]);
    const version = roster.version;
    expect(roster.apply(join('a', 'u1', 1)).diff).toBeUndefined();
    expect(roster.apply(leave('a', 'ghost', 1)).diff).toBeUndefined();
    expect(roster.apply(timeout('a', 'ghost', 1)).diff).toBeUndefined();
    expect(roster.apply(stateChange('a', 'u1', 'ok', 1)).diff).toBeUndefined();
    expect(roster.version).toBe(version);
  });

  it('leaving deletes the state: a user who comes back has none', () => {
    const roster = new RosterState<State>();
    roster.seed('a', [{ userId: 'u1', state: { mood: 'ok' } }]);
    roster.apply(leave('a', 'u1'));
    expect(roster.apply(join('a', 'u1')).diff!.states).toEqual({});
    expect(roster.get('a')!.occupants).toEqual([{ userId: 'u1' }]);
  });

  it('a state set before joining arrives with the join', () => {
    const roster = new RosterState<State>();
    roster.seed('a', []);
    expect(roster.apply(stateChange('a', 'u1', 'early', 0)).diff).toBeUndefined();
    expect(roster.get('a')!.occupancy).toBe(0);
    const diff = roster.apply(join('a', 'u1', 1)).diff!;
    expect(diff.joined).toEqual(['u1']);
    expect(diff.states).toEqual({ u1: { mood: 'early' } });
  });

  it('interval events apply their deltas, and ask for a re-read on hereNowRefresh', () => {
    const roster = new RosterState<State>();
    roster.seed('big', [{ userId: 'u1' }, { userId: 'u2' }, { userId: 'u3' }]);
    const outcome = roster.apply(interval('big', 3, { joined: ['u4', 'u5'], left: ['u1'], timedOut: ['u2', 'nobody'] }), { check: true });
    expect(outcome.resync).toBe(false);
    expect(outcome.diff).toMatchObject({ joined: ['u4', 'u5'], left: ['u1'], timedOut: ['u2'], occupancy: 3 });
    expect(ids(roster, 'big')).toEqual(['u3', 'u4', 'u5']);
    const refresh = roster.apply(interval('big', 900, { hereNowRefresh: true }));
    expect(refresh).toEqual({ diff: undefined, resync: true });
  });

  it('asks for a re-read when a checked event does not add up to its occupancy (an interval without deltas, a lost event)', () => {
    const roster = new RosterState<State>();
    roster.seed('a', [{ userId: 'u1' }]);
    expect(roster.apply(interval('a', 5), { check: true }).resync).toBe(true);
    expect(roster.apply(join('a', 'u2', 3), { check: true }).resync).toBe(true);
    // Unchecked (a replay of buffered events, whose occupancies are older than the snapshot): no re-read.
    expect(roster.apply(join('a', 'u3', 1)).resync).toBe(false);
  });

  it('a seed replays buffered events on top of an older snapshot, whatever their overlap', () => {
    const roster = new RosterState<State>();
    // The snapshot was taken after u1 joined and u9 left, but before u2 joined and u3 timed out.
    const replay = [join('a', 'u1', 1), leave('a', 'u9', 1), join('a', 'u2', 3), stateChange('a', 'u2', 'new', 3), timeout('a', 'u3', 2), join('a', 'u4', 3), leave('a', 'u4', 2)];
    const diff = roster.seed('a', [{ userId: 'u1' }, { userId: 'u3', state: { mood: 'x' } }], replay);
    expect(ids(roster, 'a')).toEqual(['u1', 'u2']);
    expect(roster.get('a')!.occupants[1]).toEqual({ userId: 'u2', state: { mood: 'new' } });
    // One diff for the whole seed: from nothing to the result.
    expect(diff).toMatchObject({ joined: ['u1', 'u2'], left: [], timedOut: [], occupancy: 2, version: 1 });
    // Events of other channels in the buffer are left alone.
    roster.seed('b', [], replay);
    expect(roster.get('b')!.occupancy).toBe(0);
  });

  it('a re-seed reports only the difference from what the roster held', () => {
    const roster = new RosterState<State>();
    roster.seed('a', [{ userId: 'u1' }, { userId: 'u2', state: { mood: 'a' } }]);
    const diff = roster.seed('a', [{ userId: 'u2', state: { mood: 'b' } }, { userId: 'u3' }]);
    expect(diff).toMatchObject({ joined: ['u3'], left: ['u1'], updated: ['u2'], states: { u2: { mood: 'b' } }, occupancy: 2, version: 2 });
    expect(roster.seed('a', [{ userId: 'u2', state: { mood: 'b' } }, { userId: 'u3' }])).toBeUndefined();
  });

  it('diffs count up by one across channels', () => {
    const roster = new RosterState<State>();
    const diffs: RosterDiff<State>[] = [];
    const keep = (d: RosterDiff<State> | undefined) => d && diffs.push(d);
    keep(roster.seed('a', [{ userId: 'u1' }]));
    keep(roster.seed('b', [{ userId: 'u1' }]));
    keep(roster.apply(join('a', 'u2')).diff);
    keep(roster.apply(join('b', 'u2')).diff);
    expect(diffs.map((d) => [d.channel, d.version])).toEqual([['a', 1], ['b', 2], ['a', 3], ['b', 4]]);
  });

  it('a mirror follows snapshot + diffs in version order, refuses a gap and skips old diffs', () => {
    const leader = new RosterState<State>();
    const diffs: RosterDiff<State>[] = [];
    leader.seed('a', [{ userId: 'u1' }]);
    const snapshot = leader.snapshot();
    for (const event of [join('a', 'u2'), stateChange('a', 'u2', 'hi'), timeout('a', 'u1'), join('a', 'u3'), leave('a', 'u2')]) diffs.push(leader.apply(event).diff!);

    const mirror = new RosterState<State>();
    mirror.load(JSON.parse(JSON.stringify(snapshot)));
    expect(mirror.applyDiff(diffs[1]!)).toBe('gap');
    expect(mirror.version).toBe(snapshot.version);
    for (const diff of diffs.slice(0, 3)) expect(mirror.applyDiff(JSON.parse(JSON.stringify(diff)))).toBe('applied');
    expect(mirror.applyDiff(diffs[0]!)).toBe('old');
    expect(mirror.get('a')).toEqual({ occupancy: 1, occupants: [{ userId: 'u2', state: { mood: 'hi' } }] });
    for (const diff of diffs.slice(3)) mirror.applyDiff(diff);
    expect(mirror.get('a')).toEqual(leader.get('a'));
    expect(mirror.snapshot()).toEqual(leader.snapshot());
  });

  it('a mirror refuses a diff that does not add up to its occupancy', () => {
    const mirror = new RosterState<State>();
    mirror.load({ version: 4, channels: { a: [{ userId: 'u1' }] } });
    expect(mirror.applyDiff({ channel: 'a', joined: ['u2'], left: [], timedOut: [], updated: [], states: {}, occupancy: 3, version: 5 })).toBe('gap');
    expect(mirror.get('a')!.occupancy).toBe(1);
  });

  it('compares byte states by value', () => {
    const roster = new RosterState<Uint8Array>();
    roster.seed('a', [{ userId: 'u1', state: new Uint8Array([1, 2]) }]);
    const same: PresenceEvent<Uint8Array> = { type: 'stateChange', userId: 'u1', state: new Uint8Array([1, 2]), ...base('a', 1) };
    expect(roster.apply(same).diff).toBeUndefined();
    expect(roster.apply({ ...same, state: new Uint8Array([1, 3]) }).diff?.updated).toEqual(['u1']);
  });

  it('user ids that look like object keys are plain data', () => {
    const roster = new RosterState<State>();
    const diff = roster.seed('a', [{ userId: '__proto__', state: { mood: 'x' } }, { userId: 'constructor' }]);
    expect(Object.keys(diff!.states)).toEqual(['__proto__']);
    expect(ids(roster, 'a')).toEqual(['__proto__', 'constructor']);
  });
});
