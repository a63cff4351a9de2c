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
  state: PresenceState | undefined;
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
   * Mark `uuid` present on each channel for `heartbeatSec` seconds. `states` (channel -> state) replaces
   * the stored state where given; channels absent from it keep theirs.
   */
  heartbeat(
    subKey: string,
    uuid: string,
    channels: readonly string[],
    heartbeatSec: number,
    states?: ReadonlyMap<string, PresenceState>,
  ): void {
    const space = this.space(subKey);
    const expiresAt = this.now() + heartbeatSec * 1000;
    this.noteExpiry(expiresAt);
    for (const name of channels) {
      const channel = channelOf(space, name);
      const existing = channel.members.get(uuid);
      const state = states?.get(name) ?? existing?.state;
      if (existing?.present) {
        existing.expiresAt = expiresAt;
        existing.state = state;
        continue;
      }
      // Re-insert so the Map position is the join time, not the time state was first set.
      if (existing) channel.members.delete(uuid);
      channel.members.set(uuid, { present: true, expiresAt, state });
      channel.occupancy += 1;
      this.markPresent(space, uuid, name);
    }
  }

  /** Remove `uuid` from each channel, deleting its state there (notes §3.6). */
  leave(subKey: string, uuid: string, channels: readonly string[]): void {
    const space = this.keys.get(subKey);
    if (!space) return;
    for (const name of channels) this.removeMember(space, name, uuid);
  }

  private removeMember(space: KeySpace, name: string, uuid: string): PresenceMember | undefined {
    const channel = space.channels.get(name);
    const member = channel?.members.get(uuid);
    if (!channel || !member) return undefined;
    channel.members.delete(uuid);
    if (member.present) {
      channel.occupancy -= 1;
      this.unmarkPresent(space, uuid, name);
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
        if (!existing.present) existing.expiresAt = this.stateOnlyExpiry();
      } else {
        channel.members.set(uuid, { present: false, expiresAt: this.stateOnlyExpiry(), state });
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
    for (const space of this.keys.values()) {
      for (const [name, channel] of space.channels) {
        for (const [uuid, member] of channel.members) {
          if (now > member.expiresAt) {
            channel.members.delete(uuid);
            if (member.present) {
              channel.occupancy -= 1;
              this.unmarkPresent(space, uuid, name);
              timedOut += 1;
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
