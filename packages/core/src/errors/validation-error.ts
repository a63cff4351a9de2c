import { PresenceError, type PresenceErrorOptions } from './presence-error.js';

/** The caller's input breaks a rule; nothing was sent. */
export class PresenceValidationError extends PresenceError {
  readonly code = 'validation_error' as const;
  /** The input field at fault, e.g. `channels[2]` or `limit`. */
  readonly field: string;
  /** The rule it broke, e.g. `max-length`. */
  readonly rule: string;

  constructor(field: string, rule: string, message: string, options?: PresenceErrorOptions) {
    super(message, options);
    this.field = field;
    this.rule = rule;
  }

  protected override details(): Record<string, unknown> {
    return { field: this.field, rule: this.rule };
  }
}
