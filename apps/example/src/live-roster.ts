import type { JsonValue } from '@presence/core';

/**
 * What the page and its event stream need from a live roster: the shape of `@presence/roster`'s
 * handle (and of cache-redis's `redisRoster`), kept to the few members used here so the page does
 * not care which one serves it.
 */
export interface LiveRoster {
  /** Settles once every room has been seeded; rejects if seeding failed for good. */
  readonly ready: Promise<void>;
  /** A room's occupants (sorted by user id) with their state, or undefined when not (yet) known. */
  get(room: string): RoomOccupants | undefined;
  /** Every room at the current version; with `changes()` called in the same tick, a reader misses nothing. */
  snapshot(): { readonly version: number; readonly channels: Readonly<Record<string, readonly Occupant[]>> };
  /** Every change, in order, from the moment of the call; ends on `break`, on `signal`, or when the roster closes. */
  changes(options?: { signal?: AbortSignal }): AsyncIterable<RosterChange>;
}

export interface Occupant {
  readonly userId: string;
  readonly state?: JsonValue;
}

export interface RoomOccupants {
  readonly occupancy: number;
  readonly occupants: readonly Occupant[];
}

/** One room's change, as the roster's `changes()` reports it. */
export interface RosterChange {
  readonly channel: string;
  readonly joined: readonly string[];
  readonly left: readonly string[];
  readonly timedOut: readonly string[];
  /** Users whose state changed while they stayed. */
  readonly updated: readonly string[];
  /** The current state of every joined or updated user that has one. */
  readonly states: Readonly<Record<string, JsonValue>>;
  readonly occupancy: number;
  readonly version: number;
}
