import { CancellableScope, type CallScope } from '../call-scope.js';
import { PresenceTimeoutError } from '../errors/timeout-error.js';
import type { OperationName } from '../types.js';

/** What a flight's work sees: a scope that ends at the flight's own deadline. */
export type FlightScope = CallScope;

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
 * The flight's deadline, armed on first use: a flight answered without going upstream (an L2 hit)
 * never pays for a timer, and one that goes upstream over HTTP never makes an AbortSignal.
 */
class Flight extends CancellableScope {
  readonly deadline: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armed = false;
  #ended = false;

  constructor(
    readonly timeoutMs: number,
    readonly operation: OperationName,
  ) {
    super();
    this.deadline = performance.now() + timeoutMs;
  }

  protected override watched(): void {
    if (this.#armed || this.#ended) return;
    this.#armed = true;
    const left = this.deadline - performance.now();
    if (left <= 0) this.#expire();
    else this.#timer = setTimeout(this.#expire, left);
  }

  readonly #expire = (): void => {
    if (!this.#ended) this.cancel(new PresenceTimeoutError(this.timeoutMs, { operation: this.operation }));
  };

  end(): void {
    this.#ended = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.forgetListeners();
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
