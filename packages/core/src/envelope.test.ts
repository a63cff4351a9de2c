import { describe, expect, test } from 'vitest';
import { parseRetryAfter, PresenceApiError, PresenceProtocolError, readEnvelope, type PresenceResponse } from './index.js';

const JS = 'text/javascript; charset="UTF-8"';
const response = (status: number, body: string, headers: Record<string, string> = { 'content-type': JS }): PresenceResponse => ({ status, body, headers });

/** The error `fn` throws; fails the test when it throws nothing. */
function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw, but the call returned normally');
}

describe('reading the response envelope', () => {
  test('a success returns the body object', () => {
    expect(readEnvelope(response(200, '{"status":200,"message":"OK","service":"Presence"}'), 'leave')).toEqual({ status: 200, message: 'OK', service: 'Presence' });
    expect(readEnvelope(response(200, '{"a":1}', { 'content-type': 'application/json' }), 'leave')).toEqual({ a: 1 });
  });

  test('"false 200": an HTTP 200 whose body says 5xx is a retryable API error', () => {
    const error = thrownBy(() => readEnvelope(response(200, '{"status": 503, "message": "Service Unavailable", "error": 1, "service": "Presence"}'), 'hereNow'));
    expect(error).toBeInstanceOf(PresenceApiError);
    expect(error).toMatchObject({ status: 503, httpStatus: 200, retryable: true, service: 'Presence', serviceMessage: 'Service Unavailable' });
    expect(error.message).toMatch(/inside an HTTP 200 response/);
  });

  test('error: true and error: 1 both count; a 403 names its channels and groups', () => {
    const body = '{"message":"Forbidden","payload":{"channels":["a"],"channel-groups":["g"]},"error":true,"service":"Access Manager","status":403}';
    const error = thrownBy(() => readEnvelope(response(403, body), 'hereNow'));
    expect(error).toBeInstanceOf(PresenceApiError);
    expect(error).toMatchObject({ status: 403, channels: ['a'], channelGroups: ['g'], retryable: false });
    expect(error.message).toMatch(/grants for a, g/);
    // error: 1 counts as error: true.
    expect(thrownBy(() => readEnvelope(response(200, body.replace('"error":true', '"error":1')), 'hereNow'))).toMatchObject({ status: 403, httpStatus: 200 });
  });

  test('Access Manager v3 nests its message under error', () => {
    const body = '{"error":{"message":"Invalid signature","source":"grant"},"service":"Access Manager","status":403}';
    expect(() => readEnvelope(response(403, body), 'hereNow')).toThrow(/Invalid signature/);
  });

  test('an error page that is not JSON is still an API error with the HTTP status', () => {
    expect(thrownBy(() => readEnvelope(response(502, '<html>oops</html>', { 'content-type': 'text/html' }), 'hereNow'))).toMatchObject({ name: 'PresenceApiError', status: 502, retryable: true });
    expect(thrownBy(() => readEnvelope(response(500, ''), 'hereNow'))).toMatchObject({ name: 'PresenceApiError', status: 500, retryable: true });
  });

  test('429 carries Retry-After', () => {
    const error = thrownBy(() => readEnvelope(response(429, '{"status": 429, "error": true, "message": "Too many requests."}', { 'content-type': JS, 'retry-after': '2' }), 'hereNow'));
    expect(error).toBeInstanceOf(PresenceApiError);
    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 2000 });
  });

  test('a success with a missing or wrong content type, bad JSON or a non-object is a protocol error', () => {
    expect(() => readEnvelope(response(200, '{"a":1}', {}), 'hereNow')).toThrow(/content type was missing/);
    expect(() => readEnvelope(response(200, '{"a":1}', { 'content-type': 'text/html' }), 'hereNow')).toThrow(PresenceProtocolError);
    expect(() => readEnvelope(response(200, '{"a":'), 'hereNow')).toThrow(/not valid JSON/);
    expect(() => readEnvelope(response(200, '[1]'), 'hereNow')).toThrow(/JSON object/);
  });

  test('excerpts in protocol errors never carry a secret', () => {
    const error = thrownBy(() => readEnvelope(response(200, 'token sk-SECRET-123 and auth%20KEY', { 'content-type': JS }), 'hereNow', ['sk-SECRET-123', 'auth KEY'])) as PresenceProtocolError;
    expect(error).toBeInstanceOf(PresenceProtocolError);
    expect(error.excerpt).toBe('token [redacted] and [redacted]');
    expect(JSON.stringify(error.toJSON())).not.toContain('SECRET');
  });

  test('every API error message is one clean sentence: the operation, who answered what, and what to do', () => {
    const message = (status: number, body: string, type = JS) => thrownBy(() => readEnvelope(response(status, body, { 'content-type': type }), 'hereNow')).message;
    expect(message(429, '{"status": 429, "error": true, "message": "Too many requests.", "service": "Presence"}')).toBe(
      'hereNow: the Presence service answered 429 (Too many requests); slow down and retry after the delay the service asked for (the retry() plugin does this).',
    );
    expect(message(502, '<html>Bad Gateway</html>', 'text/html')).toBe('hereNow: the service answered 502; retry later, it is unavailable for now (the retry() plugin does this).');
    expect(message(200, '{"status": 402, "error": 1, "message": "This feature is not turned on for this account. Contact support@pubnub.com to activate this feature.", "service": "Presence"}')).toBe(
      'hereNow: the Presence service answered 402 (This feature is not turned on for this account. Contact support@pubnub.com to activate this feature) inside an HTTP 200 response; enable this feature for the key set in the PubNub admin portal.',
    );
    for (const status of [400, 401, 403, 404, 413, 414, 429, 500, 502, 503, 504]) {
      const text = message(status, `{"status": ${status}, "error": true, "message": "Said something.", "service": "Presence"}`);
      expect(text).toMatch(/^hereNow: the Presence service answered \d{3} \(Said something\); [a-z].*\.$/);
      expect(text).not.toMatch(/\.\.|\. [A-Z]/);
    }
  });

  test('Retry-After as seconds or a date, capped, and ignored when unreadable', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('99999')).toBe(300_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
