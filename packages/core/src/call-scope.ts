import type { CacheResult } from './events.js';
import type { AnyOperation, Call, PresenceRequest, ResolvedConfig, TransportContext } from './types.js';

/**
 * What ends a call early, and what it carries along. One object per call (the call's deadline) or
 * per single-flight (the flight's own deadline). Nothing costly is made until it is needed: an
 * AbortSignal costs about 2 µs to make, more than a whole cached call.
 */
export interface CallScope {
  /** Fires on the caller's abort or at the deadline; its `reason` is the typed error. Made on first read. */
  readonly signal: AbortSignal;
  /** A `performance.now()` reading: monotonic, immune to wall-clock steps. */
  readonly deadline: number;
  /**
   * Runs `listener` once with the typed reason when the scope ends early (at once if it already
   * has); the returned function stops that. No AbortSignal is made for it.
   */
  onCancel(listener: (reason: Error) => void): () => void;
  /** How a cache answered the call, noted by the cache (see `cacheReporter`); the call's `callEnd` carries it. */
  cache: CacheResult | undefined;
}

const NOTHING_TO_STOP = (): void => {};

/**
 * What a call's deadline and a single-flight share: the signal, made on first read, and the
 * listeners of an early end, which hear once with the reason (at once if the scope is already over).
 */
export abstract class CancellableScope implements CallScope {
  abstract readonly deadline: number;
  cache: CacheResult | undefined = undefined;
  #controller: AbortController | undefined;
  #reason: Error | undefined;
  // Usually none or one (the attempt in flight): an array only when a second one comes.
  #listeners: ((reason: Error) => void) | Array<(reason: Error) => void> | undefined;

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
      else this.watched();
    }
    return this.#controller.signal;
  }

  onCancel(listener: (reason: Error) => void): () => void {
    if (this.#reason) {
      listener(this.#reason);
      return NOTHING_TO_STOP;
    }
    // Listen first: `watched` may find the scope already over and end it at once.
    const current = this.#listeners;
    if (current === undefined) this.#listeners = listener;
    else if (typeof current === 'function') this.#listeners = [current, listener];
    else current.push(listener);
    this.watched();
    return () => {
      const now = this.#listeners;
      if (now === listener) this.#listeners = undefined;
      else if (Array.isArray(now)) this.#listeners = now.filter((l) => l !== listener);
    };
  }

  /** Someone now watches the scope (its signal, or a listener): a scope that arms its end lazily does it here. */
  protected watched(): void {}

  /** Ends the scope early: aborts the signal if it was made, then tells each listener. False if it had ended already. */
  protected cancel(reason: Error): boolean {
    if (this.#reason) return false;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (typeof listeners === 'function') listeners(reason);
    else if (listeners) for (const listener of listeners) listener(reason);
    return true;
  }

  /** The work is over: nobody needs to hear of an early end any more. */
  protected forgetListeners(): void {
    this.#listeners = undefined;
  }
}

/**
 * Where a call keeps its scope. The scope is reached by reference, so a middleware's
 * `{ ...call }` copy still notes on the same call.
 */
export const CALL_SCOPE: unique symbol = Symbol('presence call scope');

// A shared accessor: a call that never needs its signal (a cache hit, an HTTP attempt watched with
// onCancel) never makes one, and a spread (`{ ...call }`) still copies the signal as a value.
// (A getter in an object literal would cost more than a whole cached call: V8 builds such objects
// in dictionary mode.)
const LAZY_SIGNAL: PropertyDescriptor = {
  get(this: { [CALL_SCOPE]: CallScope }) {
    return this[CALL_SCOPE].signal;
  },
  enumerable: true,
};

/** A call as core makes it: the call entering the stack, and every call made from it with `deriveCall`. */
export class CallFrame implements Call {
  readonly id: number;
  readonly operation: AnyOperation;
  readonly params: unknown;
  readonly config: ResolvedConfig;
  declare readonly signal: AbortSignal;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly attempt: number;
  readonly request: PresenceRequest | undefined;
  readonly fresh: boolean;
  readonly [CALL_SCOPE]: CallScope;

  constructor(id: number, operation: AnyOperation, params: unknown, config: ResolvedConfig, scope: CallScope, timeoutMs: number, attempt: number, request: PresenceRequest | undefined, fresh: boolean) {
    this.id = id;
    this.operation = operation;
    this.params = params;
    this.config = config;
    this[CALL_SCOPE] = scope;
    Object.defineProperty(this, 'signal', LAZY_SIGNAL);
    this.deadline = scope.deadline;
    this.timeoutMs = timeoutMs;
    this.attempt = attempt;
    this.request = request;
    this.fresh = fresh;
  }
}

/** What `deriveCall` may change. */
export interface CallChanges {
  readonly request?: PresenceRequest | undefined;
  readonly attempt?: number;
  /** Run the rest of the chain under another scope, e.g. a single-flight's own deadline. */
  readonly scope?: CallScope;
}

/**
 * The call to pass on, with some fields changed. Middleware may spread instead
 * (`next({ ...call, request })`), but a spread reads the signal and so makes it; this keeps it
 * unmade, which on an HTTP call saves about 3 µs (the AbortSignal and its listener).
 */
export function deriveCall(call: Call, changes: CallChanges): Call {
  const request = 'request' in changes ? changes.request : call.request;
  const attempt = changes.attempt ?? call.attempt;
  if (call instanceof CallFrame) {
    return new CallFrame(call.id, call.operation, call.params, call.config, changes.scope ?? call[CALL_SCOPE], call.timeoutMs, attempt, request, call.fresh);
  }
  // A plain copy someone spread: its signal is already a value, and may not be its scope's.
  const { scope } = changes;
  return { ...call, request, attempt, ...(scope ? { signal: scope.signal, deadline: scope.deadline } : {}) };
}

/** Notes how a cache answered this call; its `callEnd` event carries the last note. */
export function noteCacheResult(call: Call, result: CacheResult): void {
  const scope = (call as { [CALL_SCOPE]?: CallScope })[CALL_SCOPE];
  if (scope !== undefined) scope.cache = result;
}

/**
 * One attempt's view of its call, for the transport: the signal is made only if the transport
 * reads it. Both are own properties, so a transport wrapper's `{ ...context }` copy keeps them.
 */
class AttemptContext implements TransportContext {
  declare readonly signal: AbortSignal;
  readonly onCancel: (listener: (reason: Error) => void) => () => void;
  readonly deadline: number;
  readonly attempt: number;
  readonly [CALL_SCOPE]: CallScope;

  constructor(scope: CallScope, attempt: number) {
    this[CALL_SCOPE] = scope;
    Object.defineProperty(this, 'signal', LAZY_SIGNAL);
    this.onCancel = (listener) => scope.onCancel(listener);
    this.deadline = scope.deadline;
    this.attempt = attempt;
  }
}

/** The transport's context for one attempt of `call`. */
export function transportContextOf(call: Call): TransportContext {
  if (call instanceof CallFrame) return new AttemptContext(call[CALL_SCOPE], call.attempt);
  return { signal: call.signal, deadline: call.deadline, attempt: call.attempt };
}
