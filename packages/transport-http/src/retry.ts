import {
  describeValue,
  deriveCall,
  PresenceConfigurationError,
  sleep,
  type AnyOperation,
  type Call,
  type Middleware,
  type MiddlewareOptions,
  type Plugin,
  type PresenceApiError,
  retryReasonOf,
  rejectUnknownOptions,
} from '@presence/core';
import { retryBudget, type RetryBudget } from './retry-budget.js';

export interface RetryOptions {
  /** Attempts per call, the first included. Default 3; 1 turns retries off. */
  maxAttempts?: number;
  /** Backoff ceiling of the first retry; it doubles per attempt. Default 100 ms. */
  baseDelayMs?: number;
  /** Longest sleep between attempts, also the cap on a `Retry-After`. Default 20 000 ms. */
  maxDelayMs?: number;
  /** Token bucket that bounds retries. Default: a fresh `retryBudget()` for this plugin. */
  budget?: RetryBudget;
  /** Random source in [0, 1) for the jitter; default `Math.random`. For tests. */
  random?: () => number;
}

export interface RetryPlugin extends Plugin {
  readonly budget: RetryBudget;
}

/** Outermost in the finalize step, so every attempt passes through `commonParams` and `signing` again. */
export const retryOptions: MiddlewareOptions = { name: 'retry', step: 'finalize', priority: 100 };

// Every built-in write sets rather than adds (a heartbeat, a leave, a state), so repeating it
// leaves the service as once would. A custom operation is safe to repeat only if it is a read.
const REPEATABLE_WRITES: ReadonlySet<string> = new Set(['heartbeat', 'leave', 'setPresenceState']);

/** Whether sending the operation's request twice has the same effect as sending it once. */
export function safeToRepeat(operation: Pick<AnyOperation, 'kind' | 'name'>): boolean {
  return operation.kind === 'read' || REPEATABLE_WRITES.has(operation.name);
}

function checkNumber(field: string, value: unknown, fallback: number, rule: { min: number; max: number; integer?: boolean }): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < rule.min || value > rule.max || (rule.integer && !Number.isInteger(value))) {
    throw new PresenceConfigurationError(
      `retry.${field}`,
      `retry: ${field} must be ${rule.integer ? 'an integer' : 'a number'} from ${rule.min} to ${rule.max}; got ${describeValue(value)}.`,
    );
  }
  return value;
}

const RETRY_OPTION_KEYS = Object.keys({ maxAttempts: true, baseDelayMs: true, maxDelayMs: true, budget: true, random: true } satisfies Record<keyof RetryOptions, true>);

/**
 * Retries failed attempts with full-jitter exponential backoff, inside the call's one deadline.
 *
 * - The sleep before attempt n+1 is random(0, min(maxDelayMs, baseDelayMs · 2^(n-1))); a
 *   `Retry-After` (429, 503) replaces it, capped at maxDelayMs.
 * - No retry once the call is aborted, nor when the sleep would end at or after the call's
 *   deadline: the call then fails at once with the last attempt's error (more useful than a
 *   timeout that says nothing of the cause).
 * - Each retry takes tokens from the budget; an empty budget fails the call with the last error.
 * - Long-polls (`operation.longPoll`: subscribe) pass through untouched; `watch()` reconnects them
 *   itself, taking tokens from this plugin's budget (installed as `stack.retryBudget`).
 * - Emits `retry` before each sleep, and `retryBudget` when tokens are taken or refunded and when a retry is refused.
 */
export function retry(options: RetryOptions = {}): RetryPlugin {
  if (typeof options !== 'object' || options === null) {
    throw new PresenceConfigurationError('retry', 'retry: pass an options object, e.g. retry({ maxAttempts: 3 }).');
  }
  rejectUnknownOptions('retry', options, RETRY_OPTION_KEYS, 'retry.');
  const maxAttempts = checkNumber('maxAttempts', options.maxAttempts, 3, { min: 1, max: 100, integer: true });
  const baseDelayMs = checkNumber('baseDelayMs', options.baseDelayMs, 100, { min: 0, max: 10 * 60_000 });
  const maxDelayMs = checkNumber('maxDelayMs', options.maxDelayMs, Math.max(20_000, baseDelayMs), { min: baseDelayMs, max: 10 * 60_000 });
  const budget = options.budget ?? retryBudget();
  if (typeof budget !== 'object' || budget === null || typeof budget.acquire !== 'function' || typeof budget.refund !== 'function') {
    throw new PresenceConfigurationError('retry.budget', 'retry: budget must be a RetryBudget made with retryBudget().');
  }
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') {
    throw new PresenceConfigurationError('retry.random', `retry: random must be a function returning a number in [0, 1); got ${typeof random}.`);
  }

  const middleware: Middleware = (next, { events, logger }) => {
    const tokensChanged = (): void => {
      if (events.has('retryBudget')) events.emit('retryBudget', { tokens: budget.tokens });
    };
    return async (first: Call) => {
      // A long-poll (subscribe) is held open for minutes: its caller, watch(), reconnects and resumes itself.
      if (first.operation.longPoll) return next(first);
      let call = first;
      for (;;) {
        try {
          const result = await next(call);
          if (call.attempt === 1 && budget.refund()) tokensChanged();
          return result;
        } catch (error) {
          // The deadline or the caller ended the call: nothing to retry.
          if (call.signal.aborted || call.attempt >= maxAttempts) throw error;
          const reason = retryReasonOf(error);
          if (reason === undefined) throw error;
          // After a network failure or a timeout the server may have acted on the request: send it
          // again only when doing so twice has the same effect as once.
          if (reason !== 'rate_limited' && reason !== 'server_error' && !safeToRepeat(call.operation)) throw error;
          const retryAfterMs = (error as Partial<PresenceApiError>).retryAfterMs;
          // A closed pooled connection says nothing about the server's load: a new one is tried at once.
          const delayMs = reason === 'stale_connection' ? 0 : typeof retryAfterMs === 'number'
            ? Math.min(retryAfterMs, maxDelayMs)
            : Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (call.attempt - 1)));
          if (performance.now() + delayMs >= call.deadline) throw error;
          if (!budget.acquire(reason === 'timeout')) {
            tokensChanged();
            if (logger.enabled) logger.debug({ operation: call.operation.name, attempt: call.attempt, reason }, 'presence retry refused: retry budget empty');
            throw error;
          }
          tokensChanged();
          const attempt = call.attempt + 1;
          if (events.has('retry')) events.emit('retry', { operation: call.operation.name, callId: call.id, attempt, reason, delayMs });
          if (logger.enabled) logger.debug({ operation: call.operation.name, attempt, reason, delayMs }, 'presence retry');
          await sleep(delayMs, call.signal);
          call = deriveCall(first, { attempt });
        }
      }
    };
  };

  return {
    name: 'retry',
    budget,
    apply(stack) {
      stack.add(middleware, retryOptions);
      // watch()'s reconnects draw on the same budget as the retries of calls.
      stack.retryBudget = budget;
    },
  };
}
