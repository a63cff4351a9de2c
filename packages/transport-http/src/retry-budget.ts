import { describeValue, PresenceConfigurationError, rejectUnknownOptions } from '@presence/core';

export interface RetryBudgetOptions {
  /** Most tokens the bucket holds; it starts full. Default 500. */
  capacity?: number;
  /** Tokens a retry after a network error, 429 or 5xx takes. Default 5. */
  retryCost?: number;
  /** Tokens a retry after a timeout takes: timeouts hint at overload, so they cost more. Default 10. */
  timeoutCost?: number;
  /** Tokens a call that succeeds at its first attempt gives back (never above capacity). Default 1. */
  successRefund?: number;
}

/**
 * A token bucket that bounds retries, so an outage does not multiply load: with the defaults,
 * a run of failures can add at most capacity / retryCost = 100 retries before every further
 * call gets one attempt only; first-try successes slowly earn retries back.
 * One per client by default; pass the same budget to several `retry()` plugins to share it.
 */
export interface RetryBudget {
  readonly capacity: number;
  readonly retryCost: number;
  readonly timeoutCost: number;
  readonly successRefund: number;
  /** Tokens left now. */
  readonly tokens: number;
  /** Takes the cost of one retry; false (and nothing taken) when too few tokens are left. */
  acquire(timeout: boolean): boolean;
  /** A call succeeded at its first attempt: gives back `successRefund`. Returns whether the tokens changed. */
  refund(): boolean;
  /** Fills the bucket again. */
  reset(): void;
}

function checkAmount(field: string, value: unknown, fallback: number, positive: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new PresenceConfigurationError(
      `retryBudget.${field}`,
      `retryBudget: ${field} must be a finite number ${positive ? 'above' : 'of at least'} 0; got ${describeValue(value)}.`,
    );
  }
  return value;
}

/** Creates a retry budget (token bucket). Options are checked here. */
const RETRY_BUDGET_OPTION_KEYS = Object.keys({ capacity: true, retryCost: true, timeoutCost: true, successRefund: true } satisfies Record<keyof RetryBudgetOptions, true>);

export function retryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  if (typeof options !== 'object' || options === null) {
    throw new PresenceConfigurationError('retryBudget', 'retryBudget: pass an options object, e.g. retryBudget({ capacity: 500 }).');
  }
  rejectUnknownOptions('retryBudget', options, RETRY_BUDGET_OPTION_KEYS, 'retryBudget.');
  const capacity = checkAmount('capacity', options.capacity, 500, true);
  const retryCost = checkAmount('retryCost', options.retryCost, 5, false);
  const timeoutCost = checkAmount('timeoutCost', options.timeoutCost, 10, false);
  const successRefund = checkAmount('successRefund', options.successRefund, 1, false);
  let tokens = capacity;
  return {
    capacity,
    retryCost,
    timeoutCost,
    successRefund,
    get tokens() {
      return tokens;
    },
    acquire(timeout) {
      const cost = timeout ? timeoutCost : retryCost;
      if (tokens < cost) return false;
      tokens -= cost;
      return true;
    },
    refund() {
      if (tokens >= capacity || successRefund === 0) return false;
      tokens = Math.min(capacity, tokens + successRefund);
      return true;
    },
    reset() {
      tokens = capacity;
    },
  };
}
