import { PresenceSerializationError } from '@presence/core';
import { expect } from 'vitest';

/** Runs `run`, expects it to throw a PresenceSerializationError, and returns that error for more checks. */
export function refusal(run: () => unknown): PresenceSerializationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PresenceSerializationError);
    return error as PresenceSerializationError;
  }
  throw new Error('expected a PresenceSerializationError, but nothing was thrown');
}
