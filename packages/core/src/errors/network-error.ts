import { PresenceError, type PresenceErrorOptions } from './presence-error.js';

export interface PresenceNetworkErrorOptions extends PresenceErrorOptions {
  /** The request went out on a pooled keep-alive connection the server had already closed. */
  staleConnection?: boolean;
}

/** The connection failed: refused, reset, DNS, TLS. Always safe to retry for presence reads. */
export class PresenceNetworkError extends PresenceError {
  readonly code = 'network_error' as const;
  override readonly retryable = true;
  /** The system error code, e.g. `ECONNRESET`. */
  readonly errno: string | undefined;
  /**
   * The request went out on a pooled keep-alive connection that turned out closed (ECONNRESET or
   * EPIPE before any response). The server may still have read the request.
   */
  readonly staleConnection: boolean;

  constructor(message: string, errno?: string, options?: PresenceNetworkErrorOptions) {
    super(message, options);
    this.errno = errno;
    this.staleConnection = options?.staleConnection ?? false;
  }

  protected override details(): Record<string, unknown> {
    return this.staleConnection ? { errno: this.errno, staleConnection: true } : { errno: this.errno };
  }
}
