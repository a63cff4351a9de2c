import type { JsonValue } from '@presence/core';
import type { RosterDiff, RosterHandle, RosterOccupant } from '@presence/roster';

/**
 * What the page and its event stream need from a live roster: the members of `@presence/roster`'s
 * handle they use, so the page does not care which roster serves it (one per replica, or a fleet's).
 */
export type LiveRoster = Pick<RosterHandle<JsonValue>, 'ready' | 'get' | 'snapshot' | 'changes'>;

export type Occupant = RosterOccupant<JsonValue>;

/** One room's change, as the roster's `changes()` reports it. */
export type RosterChange = RosterDiff<JsonValue>;
