import { PresenceConfigurationError } from './errors/configuration-error.js';
import type { ErrorCode, PresenceError } from './errors/presence-error.js';
import type { PresenceSerializationError } from './errors/serialization-error.js';
import type { OperationName } from './types.js';

export type Outcome = 'success' | Exclude<ErrorCode, 'configuration_error'>;

export type CacheResult = 'hit_l1' | 'hit_l2' | 'miss' | 'coalesced' | 'stale';

/** `stale_connection`: a pooled keep-alive connection was already closed; sent again at once on a new one. */
export type RetryReason = 'network_error' | 'stale_connection' | 'timeout' | 'rate_limited' | 'server_error';

/** Why `watch()` reconnected: a retry's reasons, plus a response it could not read (garbage, a bad shape). */
export type WatchReconnectReason = RetryReason | 'protocol_error';

/** The presence event types `watch()` delivers (PresenceEvent['type']). */
export type WatchEventType = 'join' | 'leave' | 'timeout' | 'stateChange' | 'interval';

/**
 * How a roster met a here-now call: `hit` answered it from memory; anything else let it go on
 * down the stack, for this reason: a channel or group it does not watch (`unwatched`), not seeded
 * or waiting for a re-read (`not_ready`), older than its `maxStalenessMs` (`stale`), a global
 * question, or a write through this client it has not yet seen the event of (`write_fence`).
 * Calls made with `fresh: true` pass a roster by without a report.
 */
export type RosterAnswerResult = 'hit' | 'unwatched' | 'not_ready' | 'stale' | 'global' | 'write_fence';

/** Why a roster read here-now: its first seed, after a reconnect, a `hereNowRefresh`, an event that did not add up, a group that gained or may have lost channels, a fleet takeover. */
export type RosterSeedReason = 'initial' | 'reconnect' | 'refresh' | 'mismatch' | 'group_change' | 'group_refresh' | 'takeover';

/** A fleet roster's role: `leader` runs the roster, `mirror` follows it, `none` has neither (Redis unreachable, closed). */
export type RosterRole = 'leader' | 'mirror' | 'none';

/** Every event the client and its plugins emit. Payloads never carry a secret, a URL or a state. */
export interface PresenceEventMap {
  callStart: { operation: OperationName; callId: number };
  /** `cache`: how a cache answered the call, when one took part, as far as known when the call ended (a caller that gives up during a fill sees `miss`). */
  callEnd: { operation: OperationName; callId: number; outcome: Outcome; durationMs: number; cache?: CacheResult | undefined; error?: PresenceError };
  /** One HTTP attempt; `status` is absent when no response arrived. */
  attempt: { operation: OperationName; callId: number; attempt: number; status?: number; durationMs: number; error?: PresenceError };
  retry: { operation: OperationName; callId: number; attempt: number; reason: RetryReason; delayMs: number };
  retryBudget: { tokens: number };
  cache: { operation: OperationName; result: CacheResult; store: string };
  cacheError: { store: string; reason: string };
  /** A corrupt cached value was found and discarded. */
  cacheCorrupt: { store: string };
  circuit: { store: string; open: boolean };
  /** A background stale-while-revalidate refresh failed; the stale answer stays until it expires. */
  cacheRefreshFailed: { operation: OperationName; store: string; error?: PresenceError };
  /** A roster met a here-now call; `store` is `memory` (its own roster) or `mirror` (a fleet leader's); `stalenessMs`: how long since it last heard from the service (or its leader). */
  rosterAnswer: { operation: OperationName; result: RosterAnswerResult; store: 'memory' | 'mirror'; stalenessMs: number };
  /** A roster read here-now (paged) to seed channels, or tried to. */
  rosterSeed: { reason: RosterSeedReason; outcome: 'success' | 'error'; channels: number; durationMs: number };
  /** A fleet roster took or lost the lead. */
  rosterLeader: { role: RosterRole };
  /** A state in a response failed to decode and was left out (`invalidState: 'omit'`). */
  stateDropped: { operation: OperationName; channel: string; userId: string; error: PresenceSerializationError };
  /** `watch()` handed an event to its consumer; `lagMs` = now − the event's timestamp (clock skew included). */
  watchEvent: { type: WatchEventType; lagMs: number };
  /** `watch()` lost its long-poll and will reconnect after `delayMs`; `attempt` counts reconnects since the last success (1, 2, …). */
  watchReconnect: { reason: WatchReconnectReason; attempt: number; delayMs: number };
}

export type PresenceEventName = keyof PresenceEventMap;
export type PresenceListener<E extends PresenceEventName> = (payload: PresenceEventMap[E]) => void;

/** A typed event channel. Emitting with no listener costs a map lookup. */
export interface PresenceEvents {
  on<E extends PresenceEventName>(event: E, listener: PresenceListener<E>): () => void;
  off<E extends PresenceEventName>(event: E, listener: PresenceListener<E>): void;
  emit<E extends PresenceEventName>(event: E, payload: PresenceEventMap[E]): void;
  /** Whether anyone listens: lets emitters skip building a payload. */
  has(event: PresenceEventName): boolean;
}

type AnyListener = (payload: never) => void;

/** Every event's listeners, one array per event, replaced (never changed in place) when one is added or removed. */
export type ListenerTable = { readonly [E in PresenceEventName]: ReadonlyArray<PresenceListener<E>> };

/**
 * Core's hot paths (the end of every call, a cache hit) read the listener table directly: at a
 * few hundred nanoseconds per cached call, even the calls to `has` and `emit` show up.
 */
export const LISTENERS: unique symbol = Symbol('presence listeners');

/** The events of a client made by `createPresence`: its listener table is reachable under LISTENERS. */
export interface PresenceEventHub extends PresenceEvents {
  readonly [LISTENERS]: ListenerTable;
}

const EVENT_NAMES = ['callStart', 'callEnd', 'attempt', 'retry', 'retryBudget', 'cache', 'cacheError', 'cacheCorrupt', 'circuit', 'cacheRefreshFailed', 'stateDropped', 'watchEvent', 'watchReconnect', 'rosterAnswer', 'rosterSeed', 'rosterLeader'] as const satisfies readonly PresenceEventName[];
// Fails to compile when an event is added to PresenceEventMap but not to the list (on() would refuse it).
const EVERY_EVENT_LISTED: Exclude<PresenceEventName, (typeof EVENT_NAMES)[number]> extends never ? true : never = true;
void EVERY_EVENT_LISTED;

// For events made elsewhere (a test's stub): every slot looks occupied, so emitters always call `emit`.
const MAYBE_LISTENING = Object.freeze(Object.fromEntries(EVENT_NAMES.map((name) => [name, Object.freeze([() => {}])]))) as unknown as ListenerTable;

/** The listener table of a client's events, for a hot path that checks for listeners without a call. */
export function listenerTableOf(events: PresenceEvents): ListenerTable {
  return (events as Partial<PresenceEventHub>)[LISTENERS] ?? MAYBE_LISTENING;
}

/** Calls each listener in turn; one that throws is reported and never breaks the call. */
export function deliver<E extends PresenceEventName>(list: ReadonlyArray<PresenceListener<E>>, event: E, payload: PresenceEventMap[E], onListenerError: (error: unknown, event: PresenceEventName) => void): void {
  for (let i = 0; i < list.length; i++) {
    try {
      list[i]!(payload);
    } catch (error) {
      onListenerError(error, event);
    }
  }
}

export function createEvents(onListenerError: (error: unknown, event: PresenceEventName) => void = () => {}): PresenceEventHub {
  // One slot per event, all present from the start: the table keeps one shape, so a lookup is a
  // property load, not a hash lookup (it runs on every call, cached ones included).
  const listeners = Object.fromEntries(EVENT_NAMES.map((name) => [name, []])) as unknown as Record<PresenceEventName, readonly AnyListener[]>;
  const check = (event: PresenceEventName): void => {
    if (!Object.hasOwn(listeners, event)) throw new PresenceConfigurationError('event', `Unknown presence event "${String(event)}"; the events are ${EVENT_NAMES.join(', ')}.`);
  };
  const events: PresenceEventHub = {
    [LISTENERS]: listeners as unknown as ListenerTable,
    on(event, listener) {
      check(event);
      if (typeof listener !== 'function') throw new PresenceConfigurationError('listener', `A listener for "${event}" must be a function (payload) => void.`);
      // Copy on write: an emission iterates a stable array even if a listener unsubscribes itself.
      listeners[event] = [...listeners[event], listener];
      return () => events.off(event, listener);
    },
    off(event, listener) {
      check(event);
      listeners[event] = listeners[event].filter((l) => l !== listener);
    },
    emit(event, payload) {
      const list = listeners[event] as ReadonlyArray<PresenceListener<typeof event>> | undefined;
      if (list !== undefined && list.length !== 0) deliver(list, event, payload, onListenerError);
    },
    has: (event) => listeners[event]?.length > 0,
  };
  return events;
}
