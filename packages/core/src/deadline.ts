import { PresenceAbortError } from './errors/abort-error.js';
import { PresenceTimeoutError } from './errors/timeout-error.js';
import type { OperationName } from './types.js';

/**
 * Runs `work` under one deadline and the caller's signal. Whichever fires first aborts the
 * signal handed to `work` (its reason is the typed error) and rejects at once, even if `work`
 * ignores the signal: a call can never outlive its deadline.
 */
export function withDeadline<T>(
  operation: OperationName,
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  work: (signal: AbortSignal, deadline: number) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const controller = new AbortController();
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (reason: Error): void => {
      if (!finish()) return;
      controller.abort(reason);
      reject(reason);
    };
    const onAbort = (): void => fail(new PresenceAbortError({ operation, cause: callerSignal?.reason }));
    const timer = setTimeout(() => fail(new PresenceTimeoutError(timeoutMs, { operation })), timeoutMs);
    if (callerSignal?.aborted) return onAbort();
    callerSignal?.addEventListener('abort', onAbort, { once: true });
    work(controller.signal, Date.now() + timeoutMs).then(
      (value) => finish() && resolve(value),
      (error: unknown) => finish() && reject(error),
    );
  });
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
