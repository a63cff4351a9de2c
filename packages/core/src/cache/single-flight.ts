import { PresenceTimeoutError } from '../errors/timeout-error.js';
import type { OperationName } from '../types.js';

/** What a flight's work sees: a signal that fires at the flight's own deadline. */
export interface FlightScope {
  readonly signal: AbortSignal;
}

export interface SingleFlight<T> {
  /**
   * Joins the flight for `key`, or starts it with `work`; every caller gets the same promise.
   * A flight has its own deadline (`timeoutMs` from its start), independent of any caller, so one
   * caller giving up never fails the others, and the work still fills the cache for the next one.
   * Each caller stops waiting at its own deadline or abort (the client's per-call deadline).
   */
  run(key: string, options: { timeoutMs: number; operation: OperationName }, work: (flight: FlightScope) => Promise<T>): { promise: Promise<T>; leader: boolean };
  readonly size: number;
}

/**
 * The flight's deadline signal, made on first use: a flight answered without going upstream (an
 * L2 hit) never pays for an AbortController and a timer.
 */
class Flight implements FlightScope {
  #controller: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #deadline: number;

  constructor(
    readonly timeoutMs: number,
    readonly operation: OperationName,
  ) {
    this.#deadline = performance.now() + timeoutMs;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      const abort = (): void => controller.abort(new PresenceTimeoutError(this.timeoutMs, { operation: this.operation }));
      const left = this.#deadline - performance.now();
      if (left <= 0) abort();
      else this.#timer = setTimeout(abort, left);
    }
    return this.#controller.signal;
  }

  end(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}

/** In-process single-flight: identical concurrent calls share one upstream request. */
export function createSingleFlight<T>(): SingleFlight<T> {
  const flights = new Map<string, Promise<T>>();
  return {
    get size() {
      return flights.size;
    },
    run(key, options, work) {
      const existing = flights.get(key);
      if (existing) return { promise: existing, leader: false };
      const flight = new Flight(options.timeoutMs, options.operation);
      const promise = Promise.resolve()
        .then(() => work(flight))
        .finally(() => {
          flight.end();
          flights.delete(key);
        });
      flights.set(key, promise);
      return { promise, leader: true };
    },
  };
}
