import { PresenceError, type PresenceErrorOptions } from './presence-error.js';

/** The call's deadline passed (it covers every attempt and every backoff sleep). */
export class PresenceTimeoutError extends PresenceError {
  readonly code = 'timeout' as const;
  override readonly retryable = true;
  readonly timeoutMs: number;

  constructor(timeoutMs: number, options?: PresenceErrorOptions) {
    super(
      `${options?.operation ? `${options.operation}: the call` : 'The call'} did not finish within its ${timeoutMs} ms deadline; raise timeoutMs for this call or the client, or check the network.`,
      options,
    );
    this.timeoutMs = timeoutMs;
  }

  protected override details(): Record<string, unknown> {
    return { timeoutMs: this.timeoutMs };
  }
}
