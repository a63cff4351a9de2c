import { PresenceTimeoutError } from '../errors/timeout-error.js';
import type { OperationName } from '../types.js';

interface Flight<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  waiters: number;
}

export interface SingleFlight<T> {
  /**
   * Joins the flight for `key`, or starts it with `work`. The flight has its own signal and
   * deadline, so one caller giving up never fails the others; it is aborted only when every
   * caller has given up. Each caller's promise rejects as soon as its own signal aborts.
   */
  run(
    key: string,
    caller: { signal: AbortSignal; timeoutMs: number; operation: OperationName },
    work: (signal: AbortSignal) => Promise<T>,
  ): { promise: Promise<T>; leader: boolean };
  readonly size: number;
}

/** In-process single-flight: identical concurrent calls share one upstream request. */
export function createSingleFlight<T>(): SingleFlight<T> {
  const flights = new Map<string, Flight<T>>();

  function start(key: string, timeoutMs: number, operation: OperationName, work: (signal: AbortSignal) => Promise<T>): Flight<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new PresenceTimeoutError(timeoutMs, { operation })), timeoutMs);
    const flight: Flight<T> = {
      controller,
      waiters: 0,
      promise: Promise.resolve()
        .then(() => work(controller.signal))
        .finally(() => {
          clearTimeout(timer);
          if (flights.get(key) === flight) flights.delete(key);
        }),
    };
    flights.set(key, flight);
    return flight;
  }

  return {
    get size() {
      return flights.size;
    },
    run(key, caller, work) {
      const existing = flights.get(key);
      const flight = existing ?? start(key, caller.timeoutMs, caller.operation, work);
      flight.waiters++;
      const promise = new Promise<T>((resolve, reject) => {
        let done = false;
        const leave = (): boolean => {
          if (done) return false;
          done = true;
          caller.signal.removeEventListener('abort', onAbort);
          flight.waiters--;
          return true;
        };
        const onAbort = (): void => {
          if (!leave()) return;
          reject(caller.signal.reason);
          if (flight.waiters === 0) {
            if (flights.get(key) === flight) flights.delete(key);
            flight.controller.abort(caller.signal.reason);
          }
        };
        if (caller.signal.aborted) return onAbort();
        caller.signal.addEventListener('abort', onAbort, { once: true });
        flight.promise.then(
          (value) => leave() && resolve(value),
          (error: unknown) => leave() && reject(error),
        );
      });
      return { promise, leader: existing === undefined };
    },
  };
}
