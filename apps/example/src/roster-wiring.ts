import type { JsonValue, Plugin } from '@presence/core';
import { roster } from '@presence/roster';
import type { Redis } from 'ioredis';
import type { LiveRoster } from './live-roster.js';

export interface RosterWiring {
  /** Plugins to install on the replica's presence client: the roster answers here-now for its rooms from memory. */
  readonly plugins: readonly Plugin[];
  /** The live roster of the replica's rooms. */
  readonly roster: LiveRoster;
  close(): Promise<void>;
}

export interface RosterWiringOptions {
  readonly rooms: readonly string[];
  /** Shared by the fleet's replicas. */
  readonly redis?: Redis;
  /** How old a here-now answer may be when it arrives: 3000 for PubNub (notes §3.1); 0 for the embedded emulator, which does not cache. */
  readonly upstreamCacheMs: number;
}

/** The live roster of a replica: a plugin on its presence client, fed by the presence events of its rooms. */
export function wireRoster({ rooms, upstreamCacheMs }: RosterWiringOptions): RosterWiring {
  const live = roster<JsonValue>({ channels: rooms, upstreamCacheMs });
  return { plugins: [live], roster: live, close: () => live.close() };
}
