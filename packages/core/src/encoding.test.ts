import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeNames, encodeNames, encodeQuery, encodeString } from './index.js';

describe('encoding', () => {
  test('property: encoding names, splitting on raw commas and decoding gives the names back', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', minLength: 1 }), { minLength: 1, maxLength: 8 }), (names) => {
        const segment = encodeNames(names);
        expect(decodeNames(segment)).toEqual(names);
      }),
      { numRuns: 500 },
    );
  });

  test('property: an encoded name has no raw comma, slash, question mark, ampersand or space', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (name) => {
        expect(encodeString(name)).toMatch(/^[A-Za-z0-9\-_.%]*$/);
      }),
      { numRuns: 500 },
    );
  });

  test("property: the fast path for plain values gives exactly the SDK's encoding", () => {
    // The official SDK's encodeString, verbatim in behaviour (notes §1.3).
    const reference = (value: string): string => encodeURIComponent(value).replace(/[!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const plainish = fc.string({ unit: fc.constantFrom(...'aZ09-_.~ !*/,%é'.split('')), maxLength: 12 });
    fc.assert(
      fc.property(fc.oneof(plainish, fc.string({ unit: 'grapheme' })), (value) => {
        expect(encodeString(value)).toBe(reference(value));
      }),
      { numRuns: 1000 },
    );
  });

  test('property: query values survive URLSearchParams decoding', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }).filter((k) => /^[a-z_-]+$/.test(k)), fc.string({ unit: 'grapheme' })), (params) => {
        const query: [string, string][] = Object.entries(params);
        const decoded = [...new URLSearchParams(encodeQuery(query))];
        expect(decoded).toEqual(query);
      }),
      { numRuns: 300 },
    );
  });

  test('matches the official SDK for its captured examples (notes §1.3)', () => {
    expect(encodeString('user#1')).toBe('user%231');
    expect(encodeString("ü id!*'()~")).toBe('%C3%BC%20id%21%2A%27%28%29%7E');
    expect(encodeString('a.b-c_d~e')).toBe('a.b-c_d%7Ee');
    expect(encodeString('cg1,cg2')).toBe('cg1%2Ccg2');
    expect(encodeNames(['room 1/a,b'])).toBe('room%201%2Fa%2Cb');
    expect(encodeNames([])).toBe(',');
    expect(decodeNames(',')).toEqual([]);
  });
});
