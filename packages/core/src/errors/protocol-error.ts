import { PresenceError, type PresenceErrorOptions } from './presence-error.js';

export interface PresenceProtocolErrorOptions extends PresenceErrorOptions {
  /** HTTP status of the response that could not be read. */
  status?: number | undefined;
  /** A short excerpt of the body, with any secret scrubbed out. */
  excerpt?: string | undefined;
}

/** A response we cannot read: wrong content type, bad JSON, truncated, too large, or an unexpected shape. */
export class PresenceProtocolError extends PresenceError {
  readonly code = 'protocol_error' as const;
  readonly status: number | undefined;
  readonly excerpt: string | undefined;

  constructor(message: string, options: PresenceProtocolErrorOptions = {}) {
    super(message, options);
    this.status = options.status;
    this.excerpt = options.excerpt;
  }

  protected override details(): Record<string, unknown> {
    return { status: this.status, excerpt: this.excerpt };
  }
}
