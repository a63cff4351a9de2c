import type { JsonValue, Plugin } from '@presence/core';
import { redisRoster } from '@presence/cache-redis';
import { roster } from '@presence/roster';
import type { Redis } from 'ioredis';
import type { LiveRoster } from './live-roster.js';

export interface RosterWiring {
  /** Plugins to install on the replica's presence client: the roster answers here-now for its rooms from memory. */
  readonly plugins: readonly Plugin[];
  /** The live roster of the replica's rooms. */
  readonly roster: LiveRoster;
  /** `solo` (its own roster), or in a fleet `leader` (runs the roster for all), `mirror` (follows it) or `none` (not yet). */
  role(): 'solo' | 'leader' | 'mirror' | 'none';
  close(): Promise<void>;
}

export interface RosterWiringOptions {
  readonly rooms: readonly string[];
  /** Shared by the fleet's replicas. */
  readonly redis?: Redis;
  /** How old a here-now answer may be when it arrives: 3000 for PubNub (notes §3.1); 0 for the embedded emulator, which does not cache. */
  readonly upstreamCacheMs: number;
}

/**
 * The live roster of a replica, as a plugin on its presence client. Alone, it follows its rooms'
 * presence events itself; in a fleet (Redis), one replica holds the lease and runs the roster for
 * all, and the others mirror its snapshot and diffs — every page shows the same roster.
 */
export function wireRoster({ rooms, redis, upstreamCacheMs }: RosterWiringOptions): RosterWiring {
  if (redis) {
    const fleet = redisRoster<JsonValue>({ redis, channels: rooms, upstreamCacheMs });
    return { plugins: [fleet], roster: fleet, role: () => fleet.role, close: () => fleet.close() };
  }
  const solo = roster<JsonValue>({ channels: rooms, upstreamCacheMs });
  return { plugins: [solo], roster: solo, role: () => 'solo', close: () => solo.close() };
}
