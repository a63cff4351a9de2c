import { describe, expect, test } from 'vitest';
import { parseRetryAfter, PresenceApiError, PresenceProtocolError, readEnvelope, type PresenceResponse } from './index.js';

const JS = 'text/javascript; charset="UTF-8"';
const response = (status: number, body: string, headers: Record<string, string> = { 'content-type': JS }): PresenceResponse => ({ status, body, headers });

describe('reading the response envelope', () => {
  test('a success returns the body object', () => {
    expect(readEnvelope(response(200, '{"status":200,"message":"OK","service":"Presence"}'), 'leave')).toEqual({ status: 200, message: 'OK', service: 'Presence' });
    expect(readEnvelope(response(200, '{"a":1}', { 'content-type': 'application/json' }), 'leave')).toEqual({ a: 1 });
  });

  test('"false 200": an HTTP 200 whose body says 5xx is a retryable API error', () => {
    const error = (() => {
      try {
        readEnvelope(response(200, '{"status": 503, "message": "Service Unavailable", "error": 1, "service": "Presence"}'), 'hereNow');
      } catch (e) {
        return e as PresenceApiError;
      }
    })();
    expect(error).toBeInstanceOf(PresenceApiError);
    expect(error).toMatchObject({ status: 503, httpStatus: 200, retryable: true, service: 'Presence', serviceMessage: 'Service Unavailable' });
    expect(error!.message).toMatch(/inside an HTTP 200 response/);
  });

  test('error: true and error: 1 both count; a 403 names its channels and groups', () => {
    const body = '{"message":"Forbidden","payload":{"channels":["a"],"channel-groups":["g"]},"error":true,"service":"Access Manager","status":403}';
    expect(() => readEnvelope(response(403, body), 'hereNow')).toThrow(PresenceApiError);
    try {
      readEnvelope(response(403, body), 'hereNow');
    } catch (e) {
      expect(e).toMatchObject({ status: 403, channels: ['a'], channelGroups: ['g'], retryable: false });
      expect((e as Error).message).toMatch(/grants for a, g/);
    }
  });

  test('Access Manager v3 nests its message under error', () => {
    const body = '{"error":{"message":"Invalid signature","source":"grant"},"service":"Access Manager","status":403}';
    expect(() => readEnvelope(response(403, body), 'hereNow')).toThrow(/Invalid signature/);
  });

  test('an error page that is not JSON is still an API error with the HTTP status', () => {
    expect(() => readEnvelope(response(502, '<html>oops</html>', { 'content-type': 'text/html' }), 'hereNow')).toThrow(PresenceApiError);
    try {
      readEnvelope(response(500, ''), 'hereNow');
    } catch (e) {
      expect(e).toMatchObject({ status: 500, retryable: true });
    }
  });

  test('429 carries Retry-After', () => {
    try {
      readEnvelope(response(429, '{"status": 429, "error": true, "message": "Too many requests."}', { 'content-type': JS, 'retry-after': '2' }), 'hereNow');
    } catch (e) {
      expect(e).toMatchObject({ status: 429, retryable: true, retryAfterMs: 2000 });
    }
  });

  test('a success with a missing or wrong content type, bad JSON or a non-object is a protocol error', () => {
    expect(() => readEnvelope(response(200, '{"a":1}', {}), 'hereNow')).toThrow(/content type was missing/);
    expect(() => readEnvelope(response(200, '{"a":1}', { 'content-type': 'text/html' }), 'hereNow')).toThrow(PresenceProtocolError);
    expect(() => readEnvelope(response(200, '{"a":'), 'hereNow')).toThrow(/not valid JSON/);
    expect(() => readEnvelope(response(200, '[1]'), 'hereNow')).toThrow(/JSON object/);
  });

  test('excerpts in protocol errors never carry a secret', () => {
    try {
      readEnvelope(response(200, 'token sk-SECRET-123 and auth%20KEY', { 'content-type': JS }), 'hereNow', ['sk-SECRET-123', 'auth KEY']);
    } catch (e) {
      const error = e as PresenceProtocolError;
      expect(error.excerpt).toBe('token [redacted] and [redacted]');
      expect(JSON.stringify(error.toJSON())).not.toContain('SECRET');
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
