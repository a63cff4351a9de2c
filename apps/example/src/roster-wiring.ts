import type { JsonValue, Plugin, PresenceClient } from '@presence/core';
import type { Redis } from 'ioredis';
import type { LiveRoster, RosterChange } from './live-roster.js';

export interface RosterWiring {
  /** Plugins to install on the replica's presence client (the roster answers here-now from memory). */
  readonly plugins: readonly Plugin[];
  /** The live roster of the replica's rooms, once its client exists. */
  attach(presence: PresenceClient<JsonValue>): LiveRoster;
  close(): Promise<void>;
}

// INTERIM until @presence/roster lands: seeds once from here-now and reports no changes.
export function wireRoster({ rooms }: { rooms: readonly string[]; redis?: Redis }): RosterWiring {
  const views = new Map<string, { occupancy: number; occupants: { userId: string; state?: JsonValue }[] }>();
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  return {
    plugins: [],
    attach(presence) {
      const ready = presence.hereNow({ channels: [...rooms], includeState: true }).then((result) => {
        for (const channel of result.channels) views.set(channel.name, { occupancy: channel.occupancy, occupants: [...channel.occupants] });
      });
      return {
        ready,
        get: (room) => views.get(room),
        async *changes(): AsyncGenerator<RosterChange> {
          await stopped;
        },
      };
    },
    async close() {
      stop();
    },
  };
}
