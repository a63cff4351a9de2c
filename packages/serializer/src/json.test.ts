import { PresenceConfigurationError } from '@presence/core';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { json } from './json.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import { refusal } from '../test/refusal.js';

const zodRoom = z.object({
  mood: z.enum(['happy', 'busy']),
  items: z.array(z.object({ id: z.string() })).default([]),
});

const valibotRoom = v.object({
  mood: v.picklist(['happy', 'busy']),
  items: v.optional(v.array(v.object({ id: v.string() })), []),
});

describe('json() without a schema', () => {
  test('encodes the state as compact JSON text and decodes it back', () => {
    const codec = json<{ mood: string; n: number }>();
    expect(codec.encode({ mood: 'ok', n: 1 })).toBe('{"mood":"ok","n":1}');
    expect(codec.decode({ mood: 'ok', n: 1 })).toEqual({ mood: 'ok', n: 1 });
    expect(codec.id).toBe('json');
  });

  test.each([
    ['an array', [1, 2], 'an array'],
    ['a string', 'away', 'a string'],
    ['null', null, 'null'],
    ['a number', 5, 'a number'],
  ])('refuses %s, which PubNub cannot store', (_, state, described) => {
    const error = refusal(() => json().encode(state as never));
    expect(error.message).toContain(`got ${described}`);
    expect(error.message).toContain('JSON object');
  });

  test('refuses values JSON would silently change, naming their path', () => {
    const nan = refusal(() => json().encode({ items: [{ score: Number.NaN }] }));
    expect(nan.path).toBe('items.0.score');
    expect(nan.message).toContain('"items.0.score"');
    expect(nan.message).toContain('NaN');
    expect(refusal(() => json().encode({ big: 10n } as never)).path).toBe('big');
    expect(refusal(() => json().encode({ list: [() => 1] } as never)).path).toBe('list.0');
    expect(refusal(() => json().encode({ deep: { inf: Infinity } })).path).toBe('deep.inf');
    expect(refusal(() => json().encode({ holes: [1, undefined] } as never)).path).toBe('holes.1');
  });

  test('refuses cycles with a clear message', () => {
    const state: Record<string, unknown> = { a: 1 };
    state.self = state;
    expect(refusal(() => json().encode(state as never)).message).toMatch(/cannot be written as JSON.*without cycles/);
  });

  test('leaves out undefined and function properties, as JSON.stringify does, and honours toJSON', () => {
    const at = new Date('2025-01-02T03:04:05.000Z');
    expect(json().encode({ a: undefined, f: () => 1, at } as never)).toBe('{"at":"2025-01-02T03:04:05.000Z"}');
  });

  test('counts the size in UTF-8 bytes, not characters', () => {
    const codec = json({ maxBytes: 20 });
    // {"s":"ééééééé"} is 15 characters but 22 bytes.
    const error = refusal(() => codec.encode({ s: 'é'.repeat(7) }));
    expect(error.message).toContain('22 bytes');
    expect(error.message).toContain('20-byte limit');
    expect(codec.encode({ s: 'é'.repeat(6) })).toBe('{"s":"éééééé"}');
  });

  test('refuses a non-object state read from a response', () => {
    expect(refusal(() => json().decode([1])).message).toContain('A state in the response must be a JSON object');
  });

  test.each([
    [{ maxBytes: 0 }, 'json.maxBytes'],
    [{ maxBytes: 1.5 }, 'json.maxBytes'],
    [{ maxBytes: '10' }, 'json.maxBytes'],
    [{ id: '' }, 'json.id'],
    [{ schema: {} }, 'json.schema'],
    [{ schema: z.string().parse }, 'json.schema'],
    [{ maxbytes: 10 }, 'json.maxbytes'],
    [{ validate: () => true }, 'json.validate'],
  ])('refuses bad options at construction: %j', (options, field) => {
    expect(() => json(options as never)).toThrow(PresenceConfigurationError);
    try {
      json(options as never);
    } catch (error) {
      expect((error as PresenceConfigurationError).field).toBe(field);
    }
  });
});

describe.each([
  ['zod', zodRoom],
  ['valibot', valibotRoom],
] as const)('json() with a %s schema (Standard Schema)', (vendor, schema) => {
  const codec = json({ schema });

  test('names the vendor in its id, with the caller id after it', () => {
    expect(codec.id).toBe(`json:${vendor}`);
    expect(json({ schema, id: 'room-v2' }).id).toBe(`json:${vendor}:room-v2`);
  });

  test('encodes a valid state, using the schema output (defaults applied)', () => {
    expect(codec.encode({ mood: 'happy' } as never)).toBe('{"mood":"happy","items":[]}');
  });

  test('refuses an invalid state, naming the issue path and the schema message', () => {
    const error = refusal(() => codec.encode({ mood: 'sleepy', items: [] } as never));
    expect(error.path).toBe('mood');
    expect(error.message).toContain('"mood"');
    expect(error.message).toContain(vendor);
    expect(error.message).toContain('Nothing was sent');
  });

  test('names a nested path like items.2.id', () => {
    const error = refusal(() => codec.encode({ mood: 'busy', items: [{ id: 'a' }, { id: 'b' }, { id: 3 }] } as never));
    expect(error.path).toBe('items.2.id');
    expect(error.message).toContain('"items.2.id"');
  });

  test('refuses an array even where the schema would turn it into an object', () => {
    // valibot's object() accepts arrays; with all-optional fields it would return {}.
    const lenient = json({ schema: v.object({ mood: v.optional(v.string()) }) });
    expect(refusal(() => lenient.encode([{ mood: 'x' }] as never)).message).toContain('got an array');
  });

  test('validates states read back, and says how to keep going', () => {
    expect(codec.decode({ mood: 'busy' })).toEqual({ mood: 'busy', items: [] });
    const error = refusal(() => codec.decode({ mood: 42 }));
    expect(error.path).toBe('mood');
    expect(error.message).toContain("invalidState: 'omit'");
  });
});

describe('json() with other Standard Schema behaviours', () => {
  const schemaOf = (validate: StandardSchemaV1.Props<unknown, { a: number }>['validate']): StandardSchemaV1<unknown, { a: number }> => ({
    '~standard': { version: 1, vendor: 'hand-made', validate },
  });

  test('refuses an async schema instead of sending unvalidated state', () => {
    const codec = json({ schema: schemaOf(async (value) => ({ value: value as { a: number } })) });
    const error = refusal(() => codec.encode({ a: 1 }));
    expect(error.message).toContain('asynchronously');
    expect(error.message).toContain('hand-made');
  });

  test('a rejected async validation does not surface as an unhandled rejection', async () => {
    const codec = json({ schema: schemaOf(() => Promise.reject(new Error('late'))) });
    refusal(() => codec.encode({ a: 1 }));
    // Give an unhandled rejection the chance to fire; vitest fails the run if it does.
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  test('reads path segments given as { key } objects, and counts further issues', () => {
    const codec = json({
      schema: schemaOf(() => ({ issues: [{ message: 'Bad id', path: [{ key: 'items' }, { key: 2 }, 'id'] }, { message: 'x' }, { message: 'y' }] })),
    });
    const error = refusal(() => codec.encode({ a: 1 }));
    expect(error.path).toBe('items.2.id');
    expect(error.message).toContain('at "items.2.id": Bad id (and 2 more issues)');
  });

  test('an issue without a path is at the top level', () => {
    const codec = json({ schema: schemaOf(() => ({ issues: [{ message: 'Expected object' }] })) });
    const error = refusal(() => codec.encode({ a: 1 }));
    expect(error.path).toBe('');
    expect(error.message).toContain('at the top level: Expected object');
  });

  test('a schema that throws becomes a serialization error carrying the cause', () => {
    const boom = new Error('boom');
    const codec = json({ schema: schemaOf(() => { throw boom; }) });
    const error = refusal(() => codec.encode({ a: 1 }));
    expect(error.cause).toBe(boom);
    expect(error.message).toContain('threw while validating');
  });

  test('a schema that transforms into a non-object is still refused before sending', () => {
    const codec = json({ schema: z.object({ a: z.number() }).transform((room) => [room.a]) as unknown as StandardSchemaV1<unknown, { a: number }> });
    expect(refusal(() => codec.encode({ a: 1 })).message).toContain('got an array');
  });
});
