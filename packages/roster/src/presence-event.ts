/**
 * A presence event as `presence.watch()` yields it (DESIGN §7). Kept here until core exports it.
 */
export type PresenceEvent<S> =
  | { type: 'join' | 'leave' | 'timeout'; channel: string; userId: string; occupancy: number; timestamp: number; timetoken: string; group?: string }
  | { type: 'stateChange'; channel: string; userId: string; occupancy: number; timestamp: number; timetoken: string; state: S; group?: string }
  | { type: 'interval'; channel: string; occupancy: number; timestamp: number; timetoken: string; joined: string[]; left: string[]; timedOut: string[]; hereNowRefresh: boolean };
