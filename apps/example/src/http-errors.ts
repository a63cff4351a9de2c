import { PresenceError } from '@presence/core';

export interface HttpError {
  readonly status: number;
  readonly body: { error: { code: string; message: string; field?: string } };
  readonly headers?: Record<string, string>;
}

/** A request the service itself refuses (bad input, unknown route), before any presence call. */
export class BadRequest extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

// The library's input names, in the API's words, for a validation error the API's own checks missed.
const API_FIELDS: Record<string, string> = { channels: 'room', 'channels[0]': 'room', userId: 'user', uuid: 'user', state: 'state', heartbeat: 'heartbeat' };

function httpStatusOf(error: PresenceError): number | undefined {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Maps a failure to an HTTP answer: the caller's mistakes are 400s; the upstream's are 502 (it
 * answered wrongly or refused), 503 (it is unavailable or rate limiting) or 504 (no answer in time).
 * Bodies are written for an API client: they say what happened and what to do, and never carry the
 * library's message, which names its options and the upstream host.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof BadRequest) {
    return {
      status: error.status,
      body: { error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } },
      ...(error.headers ? { headers: error.headers } : {}),
    };
  }
  if (!PresenceError.isInstance(error)) {
    return { status: 500, body: { error: { code: 'internal_error', message: 'The service failed unexpectedly; it has been logged.' } } };
  }
  const answer = (status: number, message: string, extra: { field?: string; headers?: Record<string, string> } = {}): HttpError => ({
    status,
    body: { error: { code: error.code, message, ...(extra.field ? { field: extra.field } : {}) } },
    ...(extra.headers ? { headers: extra.headers } : {}),
  });
  switch (error.code) {
    case 'validation_error': {
      const field = API_FIELDS[(error as unknown as { field: string }).field] ?? 'request';
      return answer(400, `The ${field} is not valid; see the API in the README for what it accepts.`, { field });
    }
    case 'serialization_error':
      // A state we were asked to store is the caller's to fix; one we read back is the upstream's.
      return error.operation === 'setPresenceState' || error.operation === 'heartbeat'
        ? answer(400, 'The state cannot be stored; send a JSON object of plain values.', { field: 'state' })
        : answer(502, 'The presence service returned a state that is not a JSON object; try again later.');
    case 'timeout':
      return answer(504, 'The presence service did not answer in time; try again shortly.');
    case 'api_error': {
      const status = httpStatusOf(error) ?? 0;
      const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
      const headers = retryAfterMs === undefined ? undefined : { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) };
      if (status === 429) return answer(503, 'The presence service is rate limiting this service; try again later.', headers ? { headers } : {});
      if (status >= 500) return answer(503, `The presence service is unavailable (HTTP ${status}); try again shortly.`, headers ? { headers } : {});
      return answer(502, `The presence service refused the request (HTTP ${status}); this service's configuration may need attention.`);
    }
    case 'network_error':
      return answer(503, 'The presence service cannot be reached; try again shortly.');
    case 'aborted':
      return answer(503, 'The request was cancelled (the service is stopping or the client left); try again.');
    default:
      return answer(502, 'The presence service answered in a way this service does not understand; try again later.');
  }
}
