import { PresenceError } from '../errors/presence-error.js';
import type { JsonValue, StateSerializer } from '../types.js';

/** What the suite needs to know about a serializer's state type `S`. */
export interface SerializerConformanceOptions<S> {
  /** An ordinary state. */
  sample: S;
  /** A state holding non-ASCII text: accents, CJK, emoji (astral plane), right-to-left. */
  unicodeSample: S;
  /** A state with objects and arrays nested a few levels deep. */
  nestedSample: S;
  /** The state whose JSON is `{}`. */
  emptySample: S;
  /** A state whose encoded JSON text is exactly `bytes` UTF-8 bytes long (used at and just over `maxBytes`). */
  sampleOfSize(bytes: number): S;
  /** A value the serializer must refuse because it is not a JSON object (e.g. an array). Omit to skip. */
  nonObject?: unknown;
  /** Bytes that are not valid UTF-8, for byte serializers. Omit to skip. */
  invalidUtf8?: unknown;
  /** The serializer's size limit in UTF-8 bytes. Omit (no limit) to skip the size cases. */
  maxBytes?: number;
  /** How to compare two states. Default: structural equality (byte arrays compared byte by byte). */
  equals?(actual: S, expected: S): boolean;
}

export interface SerializerConformanceCase {
  readonly name: string;
  /** Throws an Error describing the mismatch when the serializer does not conform. */
  run(): void | Promise<void>;
}

/**
 * The StateSerializer contract as framework-agnostic test cases, for any implementation to run on
 * itself: `for (const c of serializerConformanceCases(mine, options)) test(c.name, c.run)`.
 */
export function serializerConformanceCases<S>(
  serializer: StateSerializer<S>,
  options: SerializerConformanceOptions<S>,
): SerializerConformanceCase[] {
  const equals = (a: unknown, b: unknown): boolean => (options.equals ? options.equals(a as S, b as S) : deepEqual(a, b));
  const label = `serializer "${String(serializer?.id)}"`;

  /** Encodes, checks the text is a JSON object, decodes what the server would send back and compares. */
  const roundTrip = (what: string, state: S): string => {
    const text = encodeObject(what, state);
    const decoded = serializer.decode(JSON.parse(text) as JsonValue);
    if (!equals(decoded, state)) {
      throw new Error(`${label}: ${what} did not survive a round trip; sent ${show(state)}, got back ${show(decoded)}.`);
    }
    const again = serializer.encode(decoded);
    if (again !== text) throw new Error(`${label}: ${what} encodes differently after a round trip: ${show(text)} then ${show(again)}.`);
    return text;
  };

  const encodeObject = (what: string, state: S): string => {
    const before = cloneOrUndefined(state);
    const text = serializer.encode(state);
    if (typeof text !== 'string') throw new Error(`${label}: encode(${what}) returned ${typeof text}, not a string of JSON text.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${label}: encode(${what}) returned text that is not JSON: ${show(text)}.`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`${label}: encode(${what}) returned JSON that is not an object: ${show(text)}; PubNub stores only objects as state.`);
    }
    try {
      // A lone surrogate would make the URL unencodable.
      encodeURIComponent(text);
    } catch {
      throw new Error(`${label}: encode(${what}) returned text with a lone UTF-16 surrogate, which cannot go into a URL.`);
    }
    if (before !== undefined && !deepEqual(state, before.value)) {
      throw new Error(`${label}: encode(${what}) changed the state it was given; it must leave it as it was.`);
    }
    return text;
  };

  const mustRefuse = (what: string, state: unknown, check?: (error: PresenceError) => string | undefined): void => {
    let text: unknown;
    try {
      text = serializer.encode(state as S);
    } catch (error) {
      // A refusal is typed: a serialization error, or a validation error for input that is no state at all.
      if (!PresenceError.isInstance(error) || (error.code !== 'serialization_error' && error.code !== 'validation_error')) {
        throw new Error(`${label}: encode(${what}) threw ${describeError(error)}; it must throw a PresenceSerializationError (or a PresenceValidationError).`);
      }
      const problem = check?.(error);
      if (problem) throw new Error(`${label}: encode(${what}) threw as it should, but ${problem} (message: ${show(error.message)}).`);
      return;
    }
    throw new Error(`${label}: encode(${what}) returned ${show(text)}; it must refuse it with a PresenceSerializationError.`);
  };

  const cases: SerializerConformanceCase[] = [
    {
      name: 'has an id for cache keys',
      run() {
        if (typeof serializer.id !== 'string' || serializer.id.length === 0) throw new Error(`${label}: id must be a non-empty string naming the codec.`);
      },
    },
    { name: 'encodes a state as the JSON text of an object', run: () => void encodeObject('sample', options.sample) },
    { name: 'round-trips a state', run: () => void roundTrip('sample', options.sample) },
    { name: 'round-trips unicode text', run: () => void roundTrip('unicodeSample', options.unicodeSample) },
    { name: 'round-trips nested objects and arrays', run: () => void roundTrip('nestedSample', options.nestedSample) },
    {
      name: 'round-trips the empty object',
      run() {
        const text = roundTrip('emptySample', options.emptySample);
        if (Object.keys(JSON.parse(text) as object).length !== 0) throw new Error(`${label}: encode(emptySample) returned ${show(text)}, not {}.`);
      },
    },
  ];

  const { maxBytes } = options;
  if (maxBytes !== undefined) {
    cases.push(
      {
        name: `accepts a state of exactly maxBytes (${maxBytes}) bytes, just under the limit`,
        run() {
          const text = roundTrip(`sampleOfSize(${maxBytes})`, options.sampleOfSize(maxBytes));
          const size = Buffer.byteLength(text, 'utf8');
          if (size !== maxBytes) throw new Error(`${label}: sampleOfSize(${maxBytes}) encoded to ${size} bytes; fix the helper so the case tests the limit.`);
        },
      },
      {
        name: `refuses a state of maxBytes + 1 (${maxBytes + 1}) bytes, just over the limit`,
        run: () =>
          mustRefuse(`sampleOfSize(${maxBytes + 1})`, options.sampleOfSize(maxBytes + 1), (error) =>
            error.message.includes(String(maxBytes)) ? undefined : `its message does not name the limit, ${maxBytes} bytes`,
          ),
      },
    );
  }
  if ('nonObject' in options) {
    cases.push({ name: 'refuses a state that is not a JSON object', run: () => mustRefuse('nonObject', options.nonObject) });
  }
  if ('invalidUtf8' in options) {
    cases.push({ name: 'refuses bytes that are not valid UTF-8', run: () => mustRefuse('invalidUtf8', options.invalidUtf8) });
  }
  return cases;
}

function cloneOrUndefined<T>(value: T): { value: T } | undefined {
  try {
    return { value: structuredClone(value) };
  } catch {
    return undefined; // not cloneable (class instances with functions): skip the "left as it was" check
  }
}

/** Structural equality for JSON-like states; byte arrays compare byte by byte. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.every((byte, i) => byte === y[i]);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

function show(value: unknown): string {
  let text: string;
  if (ArrayBuffer.isView(value)) {
    text = `bytes ${new TextDecoder().decode(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))}`;
  } else {
    try {
      text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
    } catch {
      text = String(value);
    }
  }
  return text.length > 200 ? `${text.slice(0, 200)}… (${text.length} characters)` : text;
}

function describeError(error: unknown): string {
  if (PresenceError.isInstance(error)) return `a ${error.name} (code ${error.code}): ${show(error.message)}`;
  if (error instanceof Error) return `a ${error.name}: ${show(error.message)}`;
  return show(error);
}
