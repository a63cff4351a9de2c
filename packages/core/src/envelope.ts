import { PresenceApiError } from './errors/api-error.js';
import { PresenceProtocolError } from './errors/protocol-error.js';
import { excerptOf, scrubSecrets, type Secret } from './secret.js';
import type { JsonObject, OperationName, PresenceResponse } from './types.js';

const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** `Retry-After` as seconds or an HTTP date, in milliseconds (capped); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value) : undefined;
}

function apiError(
  body: JsonObject | undefined,
  response: PresenceResponse,
  operation: OperationName,
  secrets: readonly (Secret | string | undefined)[],
): PresenceApiError {
  const status = typeof body?.status === 'number' ? body.status : response.status;
  // Presence errors say `"error": 1` and a `message`; Access Manager v3 nests `error: {message}` (notes §5).
  const nested = isObject(body?.error) ? body.error : undefined;
  const message = typeof body?.message === 'string' ? body.message : typeof nested?.message === 'string' ? nested.message : undefined;
  const payload = isObject(body?.payload) ? body.payload : undefined;
  return new PresenceApiError({
    operation,
    status: status >= 400 ? status : response.status,
    httpStatus: response.status,
    service: typeof body?.service === 'string' ? body.service : undefined,
    // A service that echoes the request back must not smuggle a secret into our error.
    serviceMessage: message === undefined ? undefined : scrubSecrets(message, secrets),
    channels: stringList(payload?.channels),
    channelGroups: stringList(payload?.['channel-groups']),
    retryAfterMs: parseRetryAfter(response.headers['retry-after']),
  });
}

type SecretsOrThunk = readonly (Secret | string | undefined)[] | (() => readonly (Secret | string | undefined)[]);

// Module-level, not closures made per response: only an error reads them, and the build's
// keepNames makes every named closure cost a defineProperty when it is created.
function secretsOf(secretsOrThunk: SecretsOrThunk): readonly (Secret | string | undefined)[] {
  return typeof secretsOrThunk === 'function' ? secretsOrThunk() : secretsOrThunk;
}

function excerptOfBody(response: PresenceResponse, secretsOrThunk: SecretsOrThunk): string {
  return excerptOf(response.body, secretsOf(secretsOrThunk));
}

/**
 * Checks a response the way PubNub's service answers (protocol notes §1.5, §5): content type,
 * JSON object body, HTTP status ≥ 400, and the "false 200" whose body says status ≥ 400.
 * Returns the body of a success; throws PresenceApiError or PresenceProtocolError.
 */
export function readEnvelope(
  response: PresenceResponse,
  operation: OperationName,
  /** What no excerpt may show; a function is only called when an error is built. */
  secretsOrThunk: SecretsOrThunk = [],
): JsonObject {
  let body: unknown;
  let parsed = false;
  try {
    body = JSON.parse(response.body);
    parsed = true;
  } catch {
    // handled below, differently for errors and successes
  }

  if (response.status >= 400) {
    // An error page (HTML from a proxy, an empty 500) is still the service saying no.
    throw apiError(parsed && isObject(body) ? body : undefined, response, operation, secretsOf(secretsOrThunk));
  }

  const contentType = response.headers['content-type'] ?? '';
  if (!/json|javascript/i.test(contentType)) {
    throw new PresenceProtocolError(
      `${operation}: expected a JSON response but the content type was ${contentType ? `"${contentType}"` : 'missing'} (HTTP ${response.status}). Check that the origin points at a PubNub presence service.`,
      { operation, status: response.status, excerpt: excerptOfBody(response, secretsOrThunk) },
    );
  }
  if (!parsed) {
    throw new PresenceProtocolError(
      `${operation}: the response body is not valid JSON (HTTP ${response.status}); it may be truncated. Retry, and report it if it persists.`,
      { operation, status: response.status, excerpt: excerptOfBody(response, secretsOrThunk) },
    );
  }
  if (!isObject(body)) {
    throw new PresenceProtocolError(`${operation}: expected a JSON object in the response body.`, {
      operation,
      status: response.status,
      excerpt: excerptOfBody(response, secretsOrThunk),
    });
  }
  const saysError = body.error === 1 || body.error === true || isObject(body.error);
  if (saysError || (typeof body.status === 'number' && body.status >= 400)) throw apiError(body, response, operation, secretsOf(secretsOrThunk));
  return body;
}
