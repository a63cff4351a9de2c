import { jsonValues, type JsonValue, type StateSerializer } from '@presence/core';
import { serializerConformanceCases, type SerializerConformanceOptions } from '@presence/core/testing';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { bytes } from './bytes.js';
import { json } from './json.js';

// Every sample fits this shape, so the schema-backed serializers accept them all.
interface Sample {
  mood?: string;
  pad?: string;
  tree?: { id: number; tags: string[]; children: { id: number; ok: boolean | null }[] }[];
}

const samples = {
  sample: { mood: 'happy' },
  unicodeSample: { mood: 'café — 東京 — 🎉👩‍👩‍👧 — مرحبا — \u0000\u001f "quoted" \\ back' },
  nestedSample: {
    tree: [
      { id: 1, tags: ['a', 'b'], children: [{ id: 11, ok: true }, { id: 12, ok: null }] },
      { id: 2, tags: [], children: [] },
    ],
  },
  emptySample: {},
  // '{"pad":""}' is 10 bytes; each padding character adds one.
  sampleOfSize: (size: number) => ({ pad: 'x'.repeat(size - 10) }),
} satisfies SerializerConformanceOptions<Sample>;

const zodSample = z.object({
  mood: z.string().optional(),
  pad: z.string().optional(),
  tree: z.array(z.object({ id: z.number(), tags: z.array(z.string()), children: z.array(z.object({ id: z.number(), ok: z.boolean().nullable() })) })).optional(),
});

const valibotSample = v.object({
  mood: v.optional(v.string()),
  pad: v.optional(v.string()),
  tree: v.optional(v.array(v.object({ id: v.number(), tags: v.array(v.string()), children: v.array(v.object({ id: v.number(), ok: v.nullable(v.boolean()) })) }))),
});

function runCases<S>(serializer: StateSerializer<S>, options: SerializerConformanceOptions<S>): void {
  const cases = serializerConformanceCases(serializer, options);
  for (const c of cases) test(c.name, c.run);
}

describe.each([
  ['json()', json<Sample>(), undefined],
  ['json({ maxBytes: 256 })', json<Sample>({ maxBytes: 256 }), 256],
  ['json({ schema: zod })', json({ schema: zodSample }), undefined],
  ['json({ schema: valibot, maxBytes: 200 })', json({ schema: valibotSample, maxBytes: 200 }), 200],
] as const)('conformance: %s', (_, serializer, maxBytes) => {
  runCases<Sample>(serializer, { ...samples, nonObject: [samples.sample], maxBytes: maxBytes ?? 32 * 1024 });
});

describe.each([
  ['bytes()', bytes(), 32 * 1024],
  ['bytes({ maxBytes: 200 })', bytes({ maxBytes: 200 }), 200],
] as const)('conformance: %s', (_, serializer, maxBytes) => {
  const utf8 = (state: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(state));
  runCases(serializer, {
    sample: utf8(samples.sample),
    unicodeSample: utf8(samples.unicodeSample),
    nestedSample: utf8(samples.nestedSample),
    emptySample: utf8({}),
    sampleOfSize: (size) => utf8(samples.sampleOfSize(size)),
    nonObject: utf8([1, 2]),
    // A lone continuation byte inside a string.
    invalidUtf8: Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d]),
    maxBytes,
  });
});

describe('conformance: core jsonValues() (the default serializer, no size limit)', () => {
  const cases = serializerConformanceCases<JsonValue>(jsonValues(), { ...samples, nonObject: ['not', 'an', 'object'] });
  for (const c of cases) {
    test(c.name, c.run);
  }
});

describe('the conformance suite catches broken serializers', () => {
  const failures = (serializer: StateSerializer<Sample>, extra: Partial<SerializerConformanceOptions<Sample>> = {}): string[] =>
    serializerConformanceCases(serializer, { ...samples, nonObject: [1], maxBytes: 200, ...extra }).flatMap((c) => {
      try {
        void c.run();
        return [];
      } catch (error) {
        return [`${c.name}: ${(error as Error).message}`];
      }
    });

  test('a serializer that passes everything fails nothing', () => {
    expect(failures(json<Sample>({ maxBytes: 200 }))).toEqual([]);
  });

  test('one with no size limit fails the "just over" case', () => {
    const found = failures(json<Sample>({ maxBytes: 1000 }));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('just over the limit');
  });

  test('one that loses data on the way back fails the round trips', () => {
    const lossy: StateSerializer<Sample> = { ...json<Sample>({ maxBytes: 200 }), decode: () => ({}) };
    const found = failures(lossy);
    expect(found.some((f) => f.includes('round-trips a state') && f.includes('did not survive a round trip'))).toBe(true);
  });

  test('one that sends arrays or throws plain errors fails, saying what it got', () => {
    const lax: StateSerializer<Sample> = { id: 'lax', encode: (state) => JSON.stringify(state), decode: (value) => value as Sample };
    const found = failures(lax);
    expect(found.some((f) => f.includes('not a JSON object') && f.includes('returned "[1]"'))).toBe(true);
    const plain: StateSerializer<Sample> = { ...lax, encode: () => { throw new TypeError('nope'); } };
    expect(failures(plain).some((f) => f.includes('threw a TypeError'))).toBe(true);
  });

  test('one that mutates the state it is given fails', () => {
    const mutating: StateSerializer<Sample> = {
      ...json<Sample>({ maxBytes: 200 }),
      encode: (state) => {
        const text = JSON.stringify(state);
        state.mood = 'changed';
        return text;
      },
    };
    expect(failures(mutating).some((f) => f.includes('changed the state'))).toBe(true);
  });

  test('a dishonest sampleOfSize is reported as the helper’s fault', () => {
    const found = failures(json<Sample>({ maxBytes: 200 }), { sampleOfSize: (size) => ({ pad: 'x'.repeat(size - 20) }) });
    expect(found.some((f) => f.includes('fix the helper'))).toBe(true);
  });
});
