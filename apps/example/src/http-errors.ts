import { PresenceError } from '@presence/core';

export interface HttpError {
  readonly status: number;
  readonly body: { error: { code: string; message: string; field?: string } };
  readonly headers?: Record<string, string>;
}

/** A request the service itself refuses (bad JSON, unknown route), before any presence call. */
export class BadRequest extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

/**
 * Maps a failure to an HTTP answer: the caller's mistakes are 400s; the upstream's are 502 (it
 * answered wrongly or refused), 503 (it is unavailable or rate limiting) or 504 (no answer in time).
 * Bodies carry only the error's public, secret-free fields.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof BadRequest) {
    return { status: error.status, body: { error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } } };
  }
  if (!PresenceError.isInstance(error)) {
    return { status: 500, body: { error: { code: 'internal_error', message: 'The service failed unexpectedly; it has been logged.' } } };
  }
  const body = (extra: Record<string, string> = {}) => ({ error: { code: error.code, message: error.message, ...extra } });
  switch (error.code) {
    case 'validation_error':
      return { status: 400, body: body({ field: (error as unknown as { field: string }).field }) };
    case 'serialization_error':
      // A state we were asked to store is the caller's to fix; one we read back is the upstream's.
      return error.operation === 'setPresenceState' || error.operation === 'heartbeat' ? { status: 400, body: body() } : { status: 502, body: body() };
    case 'timeout':
      return { status: 504, body: body() };
    case 'api_error': {
      const api = error as unknown as { status: number; retryAfterMs?: number };
      if (api.status === 429 || api.status >= 500) {
        const headers = api.retryAfterMs === undefined ? undefined : { 'retry-after': String(Math.ceil(api.retryAfterMs / 1000)) };
        return { status: 503, body: body(), ...(headers ? { headers } : {}) };
      }
      return { status: 502, body: body() };
    }
    case 'aborted':
      return { status: 503, body: body() };
    default:
      return { status: 502, body: body() };
  }
}
