import type { PresenceEvent } from '@presence/core';

/** One occupant of a channel, as the roster holds it. `state` is absent when the user has none. */
export interface RosterOccupant<S> {
  readonly userId: string;
  readonly state?: S;
}

/** A channel as `handle.get(channel)` shows it: occupants in the service's order (join order), frozen. */
export interface RosterChannel<S> {
  readonly occupancy: number;
  readonly occupants: readonly RosterOccupant<S>[];
}

/**
 * What changed in one channel. `left` are users who left on purpose, `timedOut` those the service
 * timed out; `updated` are users whose state changed while they stayed. `states` holds the current
 * state of every joined or updated user that has one, so a follower can replay the diff exactly.
 */
export interface RosterDiff<S> {
  readonly channel: string;
  readonly joined: readonly string[];
  readonly left: readonly string[];
  readonly timedOut: readonly string[];
  readonly updated: readonly string[];
  readonly states: Readonly<Record<string, S>>;
  /** The channel's occupancy after the change. */
  readonly occupancy: number;
  /** Counts every change of the whole roster: each diff is one more than the one before. */
  readonly version: number;
}

/** The whole roster at one version: what a fleet leader writes and a mirror loads. */
export interface RosterSnapshot<S> {
  readonly version: number;
  readonly channels: Readonly<Record<string, readonly RosterOccupant<S>[]>>;
}

export interface ApplyOutcome<S> {
  readonly diff?: RosterDiff<S> | undefined;
  /** The event says (or shows) the roster of this channel can no longer be trusted: read it again. */
  readonly resync: boolean;
}

interface Member<S> {
  state?: S;
}

class ChannelRoster<S> {
  readonly members = new Map<string, Member<S>>();
  /** States set for users who are not (yet) present; a later join brings them in, as on the service. */
  readonly pendingStates = new Map<string, S>();
  private view: RosterChannel<S> | undefined;

  changed(): void {
    this.view = undefined;
  }

  /**
   * In the service's order: a seed keeps the order of its here-now pages, a join comes last. The
   * service pages `limit`/`offset` over that order (notes §3.1), so a page from memory and the next
   * one from the service neither overlap nor skip anyone. Rebuilt only after a change.
   */
  show(): RosterChannel<S> {
    if (this.view) return this.view;
    const occupants = [...this.members.keys()].map((userId) => {
      const { state } = this.members.get(userId)!;
      return Object.freeze(state === undefined ? { userId } : { userId, state });
    });
    this.view = Object.freeze({ occupancy: occupants.length, occupants: Object.freeze(occupants) });
    return this.view;
  }
}

const EMPTY: RosterChannel<never> = Object.freeze({ occupancy: 0, occupants: Object.freeze([]) });

/** Builds one diff; `record` is what the change methods call. */
class DiffBuilder<S> {
  readonly joined: string[] = [];
  readonly left: string[] = [];
  readonly timedOut: string[] = [];
  readonly updated: string[] = [];
  readonly states: Record<string, S> = Object.create(null) as Record<string, S>;

  get empty(): boolean {
    return this.joined.length + this.left.length + this.timedOut.length + this.updated.length === 0;
  }
}

/**
 * The roster's pure state: channels → occupants with state, changed only by applying presence
 * events, seeding from a here-now snapshot, or (on a fleet mirror) applying a leader's diffs.
 * Applying an event is idempotent — a join of someone present or a leave of someone absent
 * changes nothing — so events buffered from before a snapshot can be replayed on top of it.
 * It has no clock, no I/O and no timers: the runner (roster.ts) decides when to read.
 */
export class RosterState<S> {
  private readonly rosters = new Map<string, ChannelRoster<S>>();
  private currentVersion: number;

  /** `version`: where versions start counting from (a fleet's new leader continues after the old one's). */
  constructor(version = 0) {
    this.currentVersion = version;
  }

  get version(): number {
    return this.currentVersion;
  }

  /** Whether the channel has been seeded (and so can be answered from memory). */
  has(channel: string): boolean {
    return this.rosters.has(channel);
  }

  channels(): string[] {
    return [...this.rosters.keys()];
  }

  get(channel: string): RosterChannel<S> | undefined {
    return this.rosters.get(channel)?.show();
  }

  /** Channels are kept even when empty: an empty watched channel is a known answer (occupancy 0). */
  getOrEmpty(channel: string): RosterChannel<S> {
    return this.rosters.get(channel)?.show() ?? (EMPTY);
  }

  /**
   * Applies one event to a seeded channel; events of other channels are ignored (the runner keeps
   * them for the seed's replay). With `check`, an event whose occupancy disagrees with the roster
   * after applying it asks for a re-read: deltas were lost or too large to send.
   */
  apply(event: PresenceEvent<S>, options: { check?: boolean } = {}): ApplyOutcome<S> {
    const roster = this.rosters.get(event.channel);
    if (!roster) return { resync: false };
    const diff = new DiffBuilder<S>();
    this.applyTo(roster, event, diff);
    const mismatch = options.check === true && roster.members.size !== event.occupancy;
    const resync = mismatch || (event.type === 'interval' && event.hereNowRefresh);
    return { diff: this.finish(event.channel, roster, diff), resync };
  }

  private applyTo(roster: ChannelRoster<S>, event: PresenceEvent<S>, diff: DiffBuilder<S>): void {
    switch (event.type) {
      case 'join':
        this.join(roster, event.userId, diff);
        break;
      case 'leave':
        this.remove(roster, event.userId, diff.left);
        break;
      case 'timeout':
        this.remove(roster, event.userId, diff.timedOut);
        break;
      case 'stateChange':
        this.setState(roster, event.userId, event.state, diff);
        break;
      case 'interval':
        for (const userId of event.joined) this.join(roster, userId, diff);
        for (const userId of event.left) this.remove(roster, userId, diff.left);
        for (const userId of event.timedOut) this.remove(roster, userId, diff.timedOut);
        break;
    }
  }

  /**
   * Replaces a channel's roster with a here-now snapshot, then replays `replay` (events that may be
   * newer than the snapshot, in order) on top. Returns the difference from what the roster held.
   */
  seed(channel: string, occupants: Iterable<RosterOccupant<S>>, replay: readonly PresenceEvent<S>[] = []): RosterDiff<S> | undefined {
    const before = this.rosters.get(channel);
    const next = new ChannelRoster<S>();
    for (const { userId, state } of occupants) next.members.set(userId, state === undefined ? {} : { state });
    // Pending states are not in a here-now answer; the old roster's still hold until a leave clears them.
    if (before) for (const [userId, state] of before.pendingStates) if (!next.members.has(userId)) next.pendingStates.set(userId, state);
    // Replayed changes are folded into one diff: the comparison below sees their sum.
    const scratch = new DiffBuilder<S>();
    for (const event of replay) if (event.channel === channel) this.applyTo(next, event, scratch);
    this.rosters.set(channel, next);
    return this.finish(channel, next, compare(before, next));
  }

  /** Forgets a channel (no longer watched). Returns whether it was there. */
  drop(channel: string): boolean {
    return this.rosters.delete(channel);
  }

  /** Forgets everything but the version: the roster is rebuilt by seeding, and versions keep counting up. */
  clear(): void {
    this.rosters.clear();
  }

  snapshot(): RosterSnapshot<S> {
    const channels: Record<string, readonly RosterOccupant<S>[]> = Object.create(null) as Record<string, readonly RosterOccupant<S>[]>;
    for (const [name, roster] of this.rosters) channels[name] = roster.show().occupants;
    return { version: this.currentVersion, channels };
  }

  /** A mirror's start: the leader's snapshot, whole. */
  load(snapshot: RosterSnapshot<S>): void {
    this.rosters.clear();
    for (const [name, occupants] of Object.entries(snapshot.channels)) {
      const roster = new ChannelRoster<S>();
      for (const { userId, state } of occupants) roster.members.set(userId, state === undefined ? {} : { state });
      this.rosters.set(name, roster);
    }
    this.currentVersion = snapshot.version;
  }

  /**
   * A mirror's reload (after a gap, or from a new leader): the snapshot replaces everything, and
   * the differences from what was held come back as diffs, all stamped with the snapshot's version.
   */
  replace(snapshot: RosterSnapshot<S>): RosterDiff<S>[] {
    const diffs: RosterDiff<S>[] = [];
    const names = new Set([...this.rosters.keys(), ...Object.keys(snapshot.channels)]);
    const next = new Map<string, ChannelRoster<S>>();
    for (const [name, occupants] of Object.entries(snapshot.channels)) {
      const roster = new ChannelRoster<S>();
      for (const { userId, state } of occupants) roster.members.set(userId, state === undefined ? {} : { state });
      next.set(name, roster);
    }
    for (const name of names) {
      const after = next.get(name) ?? new ChannelRoster<S>();
      const diff = compare(this.rosters.get(name), after);
      if (!diff.empty) diffs.push(Object.freeze({ channel: name, joined: diff.joined, left: diff.left, timedOut: diff.timedOut, updated: diff.updated, states: diff.states, occupancy: after.members.size, version: snapshot.version }));
    }
    this.rosters.clear();
    for (const [name, roster] of next) this.rosters.set(name, roster);
    this.currentVersion = snapshot.version;
    return diffs;
  }

  /**
   * A mirror's step: the leader's next diff. Returns false, changing nothing, when the diff is not
   * the next version (a gap: reload the snapshot) or does not add up to its occupancy.
   */
  applyDiff(diff: RosterDiff<S>): 'applied' | 'old' | 'gap' {
    if (diff.version <= this.currentVersion) return 'old';
    if (diff.version !== this.currentVersion + 1) return 'gap';
    let roster = this.rosters.get(diff.channel);
    const fresh = !roster;
    if (!roster) roster = new ChannelRoster<S>();
    const size = roster.members.size;
    const joined = diff.joined.filter((u) => !roster.members.has(u)).length;
    const gone = [...diff.left, ...diff.timedOut].filter((u) => roster.members.has(u)).length;
    if (size + joined - gone !== diff.occupancy) return 'gap';
    if (fresh) this.rosters.set(diff.channel, roster);
    for (const userId of diff.joined) {
      const state = diff.states[userId];
      roster.members.set(userId, state === undefined ? {} : { state });
    }
    for (const userId of [...diff.left, ...diff.timedOut]) roster.members.delete(userId);
    for (const userId of diff.updated) {
      const member = roster.members.get(userId);
      if (member) member.state = diff.states[userId];
    }
    roster.changed();
    this.currentVersion = diff.version;
    return 'applied';
  }

  private join(roster: ChannelRoster<S>, userId: string, diff: DiffBuilder<S>): void {
    if (roster.members.has(userId)) return;
    const state = roster.pendingStates.get(userId);
    roster.pendingStates.delete(userId);
    roster.members.set(userId, state === undefined ? {} : { state });
    diff.joined.push(userId);
    if (state !== undefined) diff.states[userId] = state;
  }

  private remove(roster: ChannelRoster<S>, userId: string, into: string[]): void {
    // Leaving deletes the user's state on the channel (notes §3.6), pending or not.
    roster.pendingStates.delete(userId);
    if (roster.members.delete(userId)) into.push(userId);
  }

  private setState(roster: ChannelRoster<S>, userId: string, state: S, diff: DiffBuilder<S>): void {
    const member = roster.members.get(userId);
    if (!member) {
      roster.pendingStates.set(userId, state);
      return;
    }
    if (sameState(member.state, state)) return;
    member.state = state;
    diff.updated.push(userId);
    diff.states[userId] = state;
  }

  private finish(channel: string, roster: ChannelRoster<S>, diff: DiffBuilder<S>): RosterDiff<S> | undefined {
    if (diff.empty) return undefined;
    roster.changed();
    this.currentVersion += 1;
    return Object.freeze({
      channel,
      joined: diff.joined,
      left: diff.left,
      timedOut: diff.timedOut,
      updated: diff.updated,
      states: diff.states,
      occupancy: roster.members.size,
      version: this.currentVersion,
    });
  }
}

/** What changed between two rosters of a channel (a re-seed): who came, who went, whose state differs. */
function compare<S>(before: ChannelRoster<S> | undefined, after: ChannelRoster<S>): DiffBuilder<S> {
  const diff = new DiffBuilder<S>();
  for (const [userId, member] of after.members) {
    const old = before?.members.get(userId);
    if (!old) {
      diff.joined.push(userId);
      if (member.state !== undefined) diff.states[userId] = member.state;
    } else if (!sameState(old.state, member.state)) {
      diff.updated.push(userId);
      if (member.state !== undefined) diff.states[userId] = member.state;
    }
  }
  // A re-read cannot tell a leave from a timeout: those who vanished between reads count as left.
  if (before) for (const userId of before.members.keys()) if (!after.members.has(userId)) diff.left.push(userId);
  return diff;
}

/** States are compared by value: a state change to an equal state is no change. */
function sameState(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) return Buffer.compare(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), new Uint8Array(b.buffer, b.byteOffset, b.byteLength)) === 0;
  return JSON.stringify(a) === JSON.stringify(b);
}
