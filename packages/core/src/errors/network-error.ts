import { PresenceError, type PresenceErrorOptions } from './presence-error.js';

/** The connection failed: refused, reset, DNS, TLS. Always safe to retry for presence reads. */
export class PresenceNetworkError extends PresenceError {
  readonly code = 'network_error' as const;
  override readonly retryable = true;
  /** The system error code, e.g. `ECONNRESET`. */
  readonly errno: string | undefined;

  constructor(message: string, errno?: string, options?: PresenceErrorOptions) {
    super(message, options);
    this.errno = errno;
  }

  protected override details(): Record<string, unknown> {
    return { errno: this.errno };
  }
}
