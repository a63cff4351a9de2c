/** A presence state: always a JSON object (notes §8, "State must be a JSON object"). */
export type PresenceState = Record<string, unknown>;

/**
 * One uuid's record on one channel. A record can exist without presence: set-state for a uuid that is
 * not (yet) present keeps the state so a later get-state or join sees it, as the real service does.
 */
export interface PresenceMember {
  present: boolean;
  /** Epoch ms after which (strictly) the record expires: a timeout when present, a drop otherwise. */
  expiresAt: number;
  /** The last heartbeat value in seconds: what a subscribe without `heartbeat=` reuses (notes §9.5). */
  timeoutSec: number;
  state: PresenceState | undefined;
}

/** One change of presence, as it becomes a presence event on `<channel>-pnpres` (notes §4). */
export interface PresenceChange {
  subKey: string;
  channel: string;
  action: 'join' | 'leave' | 'timeout' | 'state-change';
  uuid: string;
  /** Occupancy after the change. */
  occupancy: number;
  /** The new state, for `state-change`. */
  state?: PresenceState;
}

export type PresenceChangeListener = (change: PresenceChange) => void;

/** State equality for "did it change": states are JSON objects from query strings, so JSON text compares them. */
function sameState(a: PresenceState | undefined, b: PresenceState | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface ChannelPresence {
  /** Insertion order is join order, which keeps here-now paging stable. */
  readonly members: Map<string, PresenceMember>;
  occupancy: number;
}

interface KeySpace {
  readonly channels: Map<string, ChannelPresence>;
  /** uuid -> channels where it is present (where-now without a scan). */
  readonly byUuid: Map<string, Set<string>>;
  /** channel-group registry; Set keeps registration order for stable multi-form output. */
  readonly groups: Map<string, Set<string>>;
}

/** The channel's record in a key space, made empty on first use. */
function channelOf(space: KeySpace, name: string): ChannelPresence {
  let channel = space.channels.get(name);
  if (!channel) {
    channel = { members: new Map(), occupancy: 0 };
    space.channels.set(name, channel);
  }
  return channel;
}

export interface PresenceStoreCounts {
  subscribeKeys: number;
  channels: number;
  occupancy: number;
}

/**
 * All presence, state and channel-group data of one emulator, partitioned by subscribe key.
 * Expiry is driven by the injected clock and a single sweep, never a timer per user.
 */
export class PresenceStore {
  private readonly keys = new Map<string, KeySpace>();
  /** Lower bound of every record's expiresAt: lets a sweep return at once when nothing can expire. */
  private earliestExpiry = Number.POSITIVE_INFINITY;
  private timeoutCount = 0;
  /** Told about every join, leave, timeout and state change, in the order they happen. */
  onChange: PresenceChangeListener | undefined;

  constructor(
    private readonly now: () => number,
    /** Used for set-state-only records and heartbeats without a usable `heartbeat` value. */
    readonly defaultTimeoutSec: number,
  ) {}

  private space(subKey: string): KeySpace {
    let space = this.keys.get(subKey);
    if (!space) {
      space = { channels: new Map(), byUuid: new Map(), groups: new Map() };
      this.keys.set(subKey, space);
    }
    return space;
  }

  private noteExpiry(expiresAt: number): void {
    if (expiresAt < this.earliestExpiry) this.earliestExpiry = expiresAt;
  }

  private markPresent(space: KeySpace, uuid: string, channel: string): void {
    let set = space.byUuid.get(uuid);
    if (!set) {
      set = new Set();
      space.byUuid.set(uuid, set);
    }
    set.add(channel);
  }

  private unmarkPresent(space: KeySpace, uuid: string, channel: string): void {
    const set = space.byUuid.get(uuid);
    if (!set) return;
    set.delete(channel);
    if (set.size === 0) space.byUuid.delete(uuid);
  }

  /**
   * Mark `uuid` present on each channel for `heartbeatSec` seconds (when undefined: the member's last
   * value, else the default). `states` (channel -> state) replaces the stored state where given; channels
   * absent from it keep theirs. A first sighting is a `join`; a join with state, or a changed state, is
   * followed by a `state-change` so observers learn the state from events alone.
   */
  heartbeat(
    subKey: string,
    uuid: string,
    channels: readonly string[],
    heartbeatSec: number | undefined,
    states?: ReadonlyMap<string, PresenceState>,
  ): void {
    const space = this.space(subKey);
    const now = this.now();
    for (const name of channels) {
      const channel = channelOf(space, name);
      const existing = channel.members.get(uuid);
      const given = states?.get(name);
      const state = given ?? existing?.state;
      const timeoutSec = heartbeatSec ?? (existing?.present ? existing.timeoutSec : this.defaultTimeoutSec);
      const expiresAt = now + timeoutSec * 1000;
      this.noteExpiry(expiresAt);
      if (existing?.present) {
        const changed = given !== undefined && !sameState(existing.state, given);
        existing.expiresAt = expiresAt;
        existing.timeoutSec = timeoutSec;
        existing.state = state;
        if (changed) this.emit(subKey, name, 'state-change', uuid, channel.occupancy, state);
        continue;
      }
      // Re-insert so the Map position is the join time, not the time state was first set.
      if (existing) channel.members.delete(uuid);
      channel.members.set(uuid, { present: true, expiresAt, timeoutSec, state });
      channel.occupancy += 1;
      this.markPresent(space, uuid, name);
      this.emit(subKey, name, 'join', uuid, channel.occupancy);
      if (state !== undefined) this.emit(subKey, name, 'state-change', uuid, channel.occupancy, state);
    }
  }

  /**
   * Extend the expiry of `uuid` where it is still present, never joining it again: a subscribe
   * response registers as a heartbeat (notes §3.5), but must not undo a leave that came meanwhile.
   */
  refresh(subKey: string, uuid: string, channels: readonly string[]): void {
    const space = this.keys.get(subKey);
    if (!space) return;
    const now = this.now();
    for (const name of channels) {
      const member = space.channels.get(name)?.members.get(uuid);
      if (!member?.present) continue;
      member.expiresAt = now + member.timeoutSec * 1000;
      this.noteExpiry(member.expiresAt);
    }
  }

  private emit(
    subKey: string,
    channel: string,
    action: PresenceChange['action'],
    uuid: string,
    occupancy: number,
    state?: PresenceState,
  ): void {
    this.onChange?.(state === undefined ? { subKey, channel, action, uuid, occupancy } : { subKey, channel, action, uuid, occupancy, state });
  }

  /** Remove `uuid` from each channel, deleting its state there (notes §3.6). */
  leave(subKey: string, uuid: string, channels: readonly string[]): void {
    const space = this.keys.get(subKey);
    if (!space) return;
    for (const name of channels) this.removeMember(subKey, space, name, uuid);
  }

  private removeMember(subKey: string, space: KeySpace, name: string, uuid: string): PresenceMember | undefined {
    const channel = space.channels.get(name);
    const member = channel?.members.get(uuid);
    if (!channel || !member) return undefined;
    channel.members.delete(uuid);
    if (member.present) {
      channel.occupancy -= 1;
      this.unmarkPresent(space, uuid, name);
      this.emit(subKey, name, 'leave', uuid, channel.occupancy);
    }
    if (channel.members.size === 0) space.channels.delete(name);
    return member;
  }

  /** Replace (never merge, notes §3.3) the state of `uuid` on each channel. */
  setState(subKey: string, uuid: string, channels: readonly string[], state: PresenceState): void {
    const space = this.space(subKey);
    for (const name of channels) {
      const channel = channelOf(space, name);
      const existing = channel.members.get(uuid);
      if (existing) {
        existing.state = state;
        // An explicit set-state is announced even when the value is unchanged (notes §3.3 side effect).
        if (existing.present) this.emit(subKey, name, 'state-change', uuid, channel.occupancy, state);
        else existing.expiresAt = this.stateOnlyExpiry();
      } else {
        channel.members.set(uuid, {
          present: false,
          expiresAt: this.stateOnlyExpiry(),
          timeoutSec: this.defaultTimeoutSec,
          state,
        });
      }
    }
  }

  private stateOnlyExpiry(): number {
    // Bounded lifetime so state for uuids that never join cannot accumulate forever.
    const expiresAt = this.now() + this.defaultTimeoutSec * 1000;
    this.noteExpiry(expiresAt);
    return expiresAt;
  }

  getState(subKey: string, uuid: string, channel: string): PresenceState | undefined {
    return this.keys.get(subKey)?.channels.get(channel)?.members.get(uuid)?.state;
  }

  channel(subKey: string, name: string): ChannelPresence | undefined {
    return this.keys.get(subKey)?.channels.get(name);
  }

  /** Channels of a subscribe key in creation order (global here-now). */
  channels(subKey: string): IterableIterator<[string, ChannelPresence]> | [] {
    return this.keys.get(subKey)?.channels.entries() ?? [];
  }

  whereNow(subKey: string, uuid: string): string[] {
    return [...(this.keys.get(subKey)?.byUuid.get(uuid) ?? [])];
  }

  // --- channel-group registry -------------------------------------------------------------

  addChannelsToGroup(subKey: string, group: string, channels: readonly string[]): void {
    const space = this.space(subKey);
    let members = space.groups.get(group);
    if (!members) {
      members = new Set();
      space.groups.set(group, members);
    }
    for (const channel of channels) members.add(channel);
  }

  removeChannelsFromGroup(subKey: string, group: string, channels: readonly string[]): void {
    const members = this.keys.get(subKey)?.groups.get(group);
    if (!members) return;
    for (const channel of channels) members.delete(channel);
  }

  deleteGroup(subKey: string, group: string): void {
    this.keys.get(subKey)?.groups.delete(group);
  }

  listGroups(subKey: string): string[] {
    return [...(this.keys.get(subKey)?.groups.keys() ?? [])];
  }

  /** True when the group exists with at least one channel. */
  groupHasChannels(subKey: string, group: string): boolean {
    return (this.keys.get(subKey)?.groups.get(group)?.size ?? 0) > 0;
  }

  /** Groups that hold `channel` (a scan: groups are few). */
  groupsContaining(subKey: string, channel: string): string[] {
    const out: string[] = [];
    for (const [group, members] of this.keys.get(subKey)?.groups ?? []) if (members.has(channel)) out.push(group);
    return out;
  }

  groupChannels(subKey: string, group: string): string[] {
    return [...(this.keys.get(subKey)?.groups.get(group) ?? [])];
  }

  /**
   * Channels first in request order, then each group's member channels in registration order,
   * without duplicates: the stable order every multi-form answer uses.
   */
  resolve(subKey: string, channels: readonly string[], groups: readonly string[]): string[] {
    const out = new Set(channels);
    const registry = this.keys.get(subKey)?.groups;
    if (registry) {
      for (const group of groups) for (const channel of registry.get(group) ?? []) out.add(channel);
    }
    return [...out];
  }

  // --- expiry -------------------------------------------------------------------------------

  /**
   * One pass over all records: present users not refreshed in time leave by timeout (and lose their
   * state); state-only records past their lifetime are dropped. Returns the number of timeouts.
   */
  sweep(): number {
    const now = this.now();
    if (now <= this.earliestExpiry) return 0;
    let timedOut = 0;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [subKey, space] of this.keys) {
      for (const [name, channel] of space.channels) {
        for (const [uuid, member] of channel.members) {
          if (now > member.expiresAt) {
            channel.members.delete(uuid);
            if (member.present) {
              channel.occupancy -= 1;
              this.unmarkPresent(space, uuid, name);
              timedOut += 1;
              this.emit(subKey, name, 'timeout', uuid, channel.occupancy);
            }
          } else if (member.expiresAt < earliest) {
            earliest = member.expiresAt;
          }
        }
        if (channel.members.size === 0) space.channels.delete(name);
      }
    }
    this.earliestExpiry = earliest;
    this.timeoutCount += timedOut;
    return timedOut;
  }

  get timeouts(): number {
    return this.timeoutCount;
  }

  counts(): PresenceStoreCounts {
    let channels = 0;
    let occupancy = 0;
    for (const space of this.keys.values()) {
      for (const channel of space.channels.values()) {
        if (channel.occupancy > 0) channels += 1;
        occupancy += channel.occupancy;
      }
    }
    return { subscribeKeys: this.keys.size, channels, occupancy };
  }

  reset(): void {
    this.keys.clear();
    this.earliestExpiry = Number.POSITIVE_INFINITY;
    this.timeoutCount = 0;
  }
}
