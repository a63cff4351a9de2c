import { describe, expect, it } from 'vitest';
import { FaultInjector, FaultRuleError, validateFaultRules } from './fault-injector.js';

const target = (operation: 'hereNow' | 'heartbeat', names: string[] = []) => ({ operation, names, channels: names, groups: [] });

describe('FaultInjector', () => {
  it('fires a counted rule for the next N matching requests only', () => {
    const faults = new FaultInjector(() => 0);
    faults.set([{ operation: 'hereNow', channel: 'a', count: 2, response: '500' }]);
    expect(faults.match(target('heartbeat', ['a']))).toBeUndefined();
    expect(faults.match(target('hereNow', ['b']))).toBeUndefined();
    expect(faults.match(target('hereNow', ['a']))).toMatchObject({ kind: 'reply', reply: { status: 500 } });
    expect(faults.rules()).toEqual([{ operation: ['hereNow'], channel: 'a', count: 1, response: '500' }]);
    expect(faults.match(target('hereNow', ['a']))).toBeDefined();
    expect(faults.match(target('hereNow', ['a']))).toBeUndefined();
    expect(faults.rules()).toEqual([]);
  });

  it('uses the injected random source for probabilities', () => {
    let next = 0.4;
    const faults = new FaultInjector(() => next);
    faults.set([{ probability: 0.5, response: '429', retryAfterSec: 7 }]);
    expect(faults.match(target('hereNow'))).toEqual({
      kind: 'reply',
      reply: { status: 429, body: '{"status": 429, "error": true, "message": "Too many requests."}', headers: { 'Retry-After': '7' } },
    });
    next = 0.6;
    expect(faults.match(target('hereNow'))).toBeUndefined();
  });

  it('builds preset and custom answers', () => {
    const faults = new FaultInjector(() => 0);
    faults.set([
      { operation: 'heartbeat', response: 'reset' },
      { channel: 'denied', response: '403' },
      { channel: 'custom', response: { status: 418, body: { teapot: true }, headers: { 'X-A': '1' } } },
      { response: 'false200' },
    ]);
    expect(faults.match(target('heartbeat'))).toEqual({ kind: 'reset' });
    expect(faults.match(target('hereNow', ['denied']))).toMatchObject({
      reply: { status: 403, body: '{"message":"Forbidden","payload":{"channels":["denied"]},"error":true,"service":"Access Manager","status":403}' },
    });
    expect(faults.match(target('hereNow', ['custom']))).toEqual({ kind: 'reply', reply: { status: 418, body: '{"teapot":true}', headers: { 'X-A': '1' } } });
    expect(faults.match(target('hereNow'))).toMatchObject({ reply: { status: 200, body: expect.stringContaining('"status": 503') } });
  });

  it('rejects malformed rules', () => {
    expect(() => validateFaultRules({})).toThrow(FaultRuleError);
    expect(() => validateFaultRules([{ response: 'nope' }])).toThrow(FaultRuleError);
    expect(() => validateFaultRules([{ operation: 'publish', response: '500' }])).toThrow(FaultRuleError);
    expect(() => validateFaultRules([{ probability: 2, response: '500' }])).toThrow(FaultRuleError);
    expect(() => validateFaultRules([{ response: { status: 99 } }])).toThrow(FaultRuleError);
  });
});
