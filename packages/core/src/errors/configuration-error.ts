import { PresenceError, type PresenceErrorOptions } from './presence-error.js';

/** A client or plugin option is wrong; thrown at construction, before any call. */
export class PresenceConfigurationError extends PresenceError {
  readonly code = 'configuration_error' as const;
  /** The option at fault, e.g. `subscribeKey` or `retry.maxAttempts`. */
  readonly field: string;

  constructor(field: string, message: string, options?: PresenceErrorOptions) {
    super(message, options);
    this.field = field;
  }

  protected override details(): Record<string, unknown> {
    return { field: this.field };
  }
}
