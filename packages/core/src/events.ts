import type { ErrorCode, PresenceError } from './errors/presence-error.js';
import type { PresenceSerializationError } from './errors/serialization-error.js';
import type { OperationName } from './types.js';

export type Outcome = 'success' | Exclude<ErrorCode, 'configuration_error'>;

export type CacheResult = 'hit_l1' | 'hit_l2' | 'miss' | 'coalesced' | 'stale';

export type RetryReason = 'network_error' | 'timeout' | 'rate_limited' | 'server_error';

/** Every event the client and its plugins emit. Payloads never carry a secret, a URL or a state. */
export interface PresenceEventMap {
  callStart: { operation: OperationName; callId: number };
  callEnd: { operation: OperationName; callId: number; outcome: Outcome; durationMs: number; error?: PresenceError };
  /** One HTTP attempt; `status` is absent when no response arrived. */
  attempt: { operation: OperationName; callId: number; attempt: number; status?: number; durationMs: number; error?: PresenceError };
  retry: { operation: OperationName; callId: number; attempt: number; reason: RetryReason; delayMs: number };
  retryBudget: { tokens: number };
  cache: { operation: OperationName; result: CacheResult; store: string };
  cacheError: { store: string; reason: string };
  /** A corrupt cached value was found and discarded. */
  cacheCorrupt: { store: string };
  circuit: { store: string; open: boolean };
  /** A state in a response failed to decode and was left out (`invalidState: 'omit'`). */
  stateDropped: { operation: OperationName; channel: string; userId: string; error: PresenceSerializationError };
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

export function createEvents(onListenerError: (error: unknown, event: PresenceEventName) => void = () => {}): PresenceEvents {
  const listeners = new Map<PresenceEventName, Array<(payload: never) => void>>();
  const events: PresenceEvents = {
    on(event, listener) {
      // Copy on write: emit iterates a stable array even if a listener unsubscribes itself.
      listeners.set(event, [...(listeners.get(event) ?? []), listener as (payload: never) => void]);
      return () => events.off(event, listener);
    },
    off(event, listener) {
      const list = listeners.get(event);
      if (!list) return;
      const next = list.filter((l) => l !== listener);
      if (next.length) listeners.set(event, next);
      else listeners.delete(event);
    },
    emit(event, payload) {
      const list = listeners.get(event);
      if (!list) return;
      for (const listener of list) {
        // An observer's bug must never break a call.
        try {
          (listener as (p: typeof payload) => void)(payload);
        } catch (error) {
          onListenerError(error, event);
        }
      }
    },
    has: (event) => listeners.has(event),
  };
  return events;
}
