import { PresenceError, type PresenceErrorOptions } from './presence-error.js';

/** The caller's AbortSignal fired; the call stopped where it was. */
export class PresenceAbortError extends PresenceError {
  readonly code = 'aborted' as const;

  constructor(options?: PresenceErrorOptions) {
    super(`${options?.operation ? `${options.operation}: the call` : 'The call'} was aborted by its AbortSignal, as the caller asked; nothing more is done for it.`, options);
  }
}
