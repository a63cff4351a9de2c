// Property tests: any JSON object survives both serializers, and the wire text is always compact JSON.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { bytes } from './bytes.js';
import { json } from './json.js';

// -0 is not JSON (it is written as 0), so it is left out of the generated values.
const jsonObject = fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue({ stringUnit: 'grapheme' }).map((value) => JSON.parse(JSON.stringify(value)) as unknown), { maxKeys: 8 });

describe('properties', () => {
  test('json(): decode(parse(encode(state))) equals the state, and the text is JSON.stringify of it', () => {
    const codec = json({ maxBytes: Number.MAX_SAFE_INTEGER });
    fc.assert(
      fc.property(jsonObject, (state) => {
        const text = codec.encode(state as never);
        expect(text).toBe(JSON.stringify(state));
        expect(codec.decode(JSON.parse(text))).toEqual(state);
      }),
      { numRuns: 200 },
    );
  });

  test('bytes(): any formatting of a JSON object goes out compact and comes back as the same bytes', () => {
    const codec = bytes({ maxBytes: Number.MAX_SAFE_INTEGER });
    fc.assert(
      fc.property(jsonObject, fc.integer({ min: 0, max: 4 }), (state, indent) => {
        const compact = JSON.stringify(state);
        const text = codec.encode(new TextEncoder().encode(JSON.stringify(state, null, indent)));
        expect(text).toBe(compact);
        expect(new TextDecoder().decode(codec.decode(JSON.parse(text)))).toBe(compact);
      }),
      { numRuns: 200 },
    );
  });

  test('size limit: a state is accepted exactly when its UTF-8 JSON fits', () => {
    fc.assert(
      fc.property(jsonObject, fc.integer({ min: 2, max: 400 }), (state, maxBytes) => {
        const size = Buffer.byteLength(JSON.stringify(state));
        const run = () => json({ maxBytes }).encode(state as never);
        if (size <= maxBytes) expect(run()).toBe(JSON.stringify(state));
        else expect(run).toThrow(`${size} bytes`);
      }),
      { numRuns: 300 },
    );
  });
});
