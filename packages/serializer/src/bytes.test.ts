import { PresenceConfigurationError } from '@presence/core';
import { describe, expect, test } from 'vitest';
import { bytes } from './bytes.js';
import { refusal } from '../test/refusal.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('bytes()', () => {
  test('sends the JSON text of the bytes, compacted', () => {
    expect(bytes().encode(utf8('{ "mood": "ok",\n  "n": [1, 2] }'))).toBe('{"mood":"ok","n":[1,2]}');
    expect(bytes().id).toBe('bytes');
  });

  test('reads a state back as the UTF-8 bytes of its compact JSON', () => {
    const state = bytes().decode({ mood: 'café ☕', n: [1, { deep: true }] });
    expect(state).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(state)).toBe('{"mood":"café ☕","n":[1,{"deep":true}]}');
  });

  test('accepts bytes that are a view into a larger buffer', () => {
    const buffer = utf8('xx{"a":1}yy');
    expect(bytes().encode(buffer.subarray(2, 9))).toBe('{"a":1}');
  });

  test('refuses invalid UTF-8 rather than sending replacement characters', () => {
    // 0xC3 starts a two-byte sequence that 0x28 does not continue.
    const error = refusal(() => bytes().encode(Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])));
    expect(error.message).toContain('not valid UTF-8');
  });

  test('refuses bytes that are not JSON, or JSON that is not an object', () => {
    expect(refusal(() => bytes().encode(utf8('{mood: ok}'))).message).toContain('not JSON');
    expect(refusal(() => bytes().encode(utf8('[1,2]'))).message).toContain('got an array');
    expect(refusal(() => bytes().encode(utf8('"away"'))).message).toContain('got a string');
    expect(refusal(() => bytes().encode(new Uint8Array())).message).toContain('not JSON');
  });

  test('refuses a state that is not a Uint8Array', () => {
    expect(refusal(() => bytes().encode('{"a":1}' as never)).message).toContain('must be a Uint8Array');
    expect(refusal(() => bytes().encode({ a: 1 } as never)).message).toContain('Use json()');
  });

  test('applies maxBytes to the compact text that is sent', () => {
    const codec = bytes({ maxBytes: 10 });
    // 14 bytes with spaces, 10 once compacted: accepted.
    expect(codec.encode(utf8('{ "a" : "12" }'))).toBe('{"a":"12"}');
    const error = refusal(() => codec.encode(utf8('{"a":"123"}')));
    expect(error.message).toContain('11 bytes');
    expect(error.message).toContain('10-byte limit');
  });

  test('refuses a non-object state read from a response', () => {
    expect(refusal(() => bytes().decode('text')).message).toContain('A state in the response must be a JSON object');
  });

  test('refuses bad options at construction', () => {
    expect(() => bytes({ maxBytes: -1 })).toThrow(PresenceConfigurationError);
    expect(() => bytes({ maxBytes: -1 })).toThrow(/bytes\(\): maxBytes must be a whole number/);
    expect(() => bytes({ max: 10 } as never)).toThrow('bytes(): unknown option "max". Did you mean "maxBytes"? Known options: maxBytes.');
  });
});
