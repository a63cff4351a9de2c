import { PresenceError, type PresenceErrorOptions } from './presence-error.js';

/** The caller's AbortSignal fired; the call stopped where it was. */
export class PresenceAbortError extends PresenceError {
  readonly code = 'aborted' as const;

  constructor(options?: PresenceErrorOptions) {
    super('The call was aborted by its AbortSignal.', options);
  }
}
