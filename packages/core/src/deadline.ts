import { PresenceAbortError } from './errors/abort-error.js';
import { PresenceTimeoutError } from './errors/timeout-error.js';
import { CancellableScope, type CallScope } from './call-scope.js';
import type { OperationName } from './types.js';

/** What a call's work sees of its deadline. */
export type DeadlineScope = CallScope;

/**
 * One call's deadline and cancellation. The AbortSignal is made only when something asks for it:
 * creating one costs more than a whole cached call, and a cache hit never needs it.
 */
class Deadline<T> extends CancellableScope {
  readonly deadline: number;
  #settled = false;
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #callerSignal: AbortSignal | undefined;
  readonly #resolve: (value: T) => void;
  readonly #reject: (reason: unknown) => void;
  readonly #operation: OperationName;
  readonly #timeoutMs: number;

  constructor(operation: OperationName, timeoutMs: number, startedAt: number, callerSignal: AbortSignal | undefined, resolve: (value: T) => void, reject: (reason: unknown) => void) {
    super();
    this.#operation = operation;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#callerSignal = callerSignal;
    this.#timeoutMs = timeoutMs;
    this.deadline = startedAt + timeoutMs;
    // The error is made only if the deadline passes: building one (its stack) costs more than a cached call.
    // Module-level handlers and the scope itself as the listener object: no closures per call.
    this.#timer = setTimeout(onDeadline, timeoutMs, this);
    callerSignal?.addEventListener('abort', this, { once: true });
  }

  /** The deadline passed. */
  expire(): void {
    this.#fail(new PresenceTimeoutError(this.#timeoutMs, { operation: this.#operation }));
  }

  /** The caller's signal fired (this object is its listener). */
  handleEvent(): void {
    this.#fail(new PresenceAbortError({ operation: this.#operation, cause: this.#callerSignal?.reason }));
  }

  #fail(reason: Error): void {
    if (!this.#finish()) return;
    // Rejected first, so a listener that throws cannot keep the call from failing.
    this.#reject(reason);
    this.cancel(reason);
  }

  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    this.#callerSignal?.removeEventListener('abort', this);
    return true;
  }

  settle(outcome: Promise<T>): void {
    outcome.then(
      (value) => this.#finish() && this.#resolve(value),
      (error: unknown) => this.#finish() && this.#reject(error),
    );
  }
}

function onDeadline(scope: { expire(): void }): void {
  scope.expire();
}

/**
 * Runs `work` under one deadline and the caller's signal. Whichever fires first aborts the
 * signal handed to `work` (its reason is the typed error) and rejects at once, even if `work`
 * ignores the signal: a call can never outlive its deadline.
 */
export function withDeadline<T>(
  operation: OperationName,
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  work: (scope: DeadlineScope) => Promise<T>,
  /** When the call started, as a `performance.now()` reading (the caller may have it already). */
  startedAt: number = performance.now(),
): Promise<T> {
  if (callerSignal?.aborted) return Promise.reject(new PresenceAbortError({ operation, cause: callerSignal.reason }));
  return new Promise<T>((resolve, reject) => {
    const scope = new Deadline<T>(operation, timeoutMs, startedAt, callerSignal, resolve, reject);
    let outcome: Promise<T>;
    try {
      outcome = work(scope);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what the work threw, as it was
      outcome = Promise.reject(error);
    }
    scope.settle(outcome);
  });
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // A call's signal carries a typed PresenceError as its reason; a caller's may carry anything.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- see above
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- see above
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
