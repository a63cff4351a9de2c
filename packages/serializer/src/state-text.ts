import { describeValue, PresenceConfigurationError, PresenceSerializationError } from '@presence/core';

/** The default size limit: PubNub carries state in the GET URL, which is capped at about 32 KiB (notes §8). */
export const DEFAULT_MAX_BYTES = 32 * 1024;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return 'a string';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function notAnObject(value: unknown, what: string): PresenceSerializationError {
  return new PresenceSerializationError(
    `${what} must be a JSON object of key/value pairs, as PubNub stores only objects as state; got ${describe(value)}. Wrap the value in an object, e.g. { value }.`,
  );
}

function pathOf(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

/**
 * JSON.stringify that refuses what JSON would silently change (NaN and Infinity become null, and so do
 * undefined, functions and symbols in arrays) or cannot write at all (bigint, cycles), naming the path.
 * `toJSON` (e.g. Date) is honoured, as JSON.stringify does.
 */
export function stringifyState(state: unknown): string {
  if (!isJsonObject(state)) throw notAnObject(state, 'State');
  // Path of every container seen so far, so a refusal can say where it is.
  const paths = new Map<object, string>();
  let text: string | undefined;
  try {
    text = JSON.stringify(state, function (this: unknown, key: string, value: unknown) {
      // The first call is for the root, under the key '' of a wrapper object.
      const path = paths.size === 0 ? '' : pathOf(paths.get(this as object) ?? '', key);
      if (typeof value === 'object' && value !== null) {
        if (!paths.has(value)) paths.set(value, path);
        return value;
      }
      if (typeof value === 'number' && !Number.isFinite(value)) throw refuse(path, `is ${value}, which JSON cannot carry (it would arrive as null)`);
      if (typeof value === 'bigint') throw refuse(path, 'is a bigint, which JSON cannot carry; convert it to a string or number');
      if (value === undefined && Array.isArray(this)) throw refuse(path, 'is undefined, which JSON cannot carry in a list (it would arrive as null)');
      if (typeof value === 'function' || typeof value === 'symbol') {
        if (Array.isArray(this)) throw refuse(path, `is a ${typeof value}, which JSON cannot carry (it would arrive as null)`);
        return undefined; // as JSON.stringify: such properties are left out
      }
      return value;
    });
  } catch (error) {
    if (error instanceof PresenceSerializationError) throw error;
    // A cycle, or a toJSON that threw. V8's cycle message spans lines; keep the error on one.
    const reason = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
    throw new PresenceSerializationError(`The state cannot be written as JSON (${reason}); pass plain data without cycles.`, { cause: error });
  }
  if (text === undefined || !text.startsWith('{')) throw notAnObject(state, 'State');
  return text;
}

function refuse(path: string, what: string): PresenceSerializationError {
  return new PresenceSerializationError(`The state${path ? ` at "${path}"` : ''} ${what}.`, { path });
}

/** Refuses a state whose JSON text is longer than the limit, in UTF-8 bytes (what goes into the URL). */
export function checkSize(text: string, maxBytes: number, codec: string): void {
  // Cheap bound first: a UTF-8 byte count is at most 3 × the UTF-16 length.
  if (text.length * 3 <= maxBytes) return;
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) {
    throw new PresenceSerializationError(
      `The state is ${size} bytes of JSON, over the ${maxBytes}-byte limit of ${codec}; PubNub carries state in the request URL (about 32 KiB at most), so keep state small or raise maxBytes.`,
    );
  }
}

/** maxBytes must be a whole number of bytes, at least the 2 of `{}`. */
export function checkMaxBytes(factory: string, value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_BYTES;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 2) {
    return configurationError(factory, 'maxBytes', `maxBytes must be a whole number of bytes, at least 2 (the size of "{}"); got ${describeValue(value)}.`);
  }
  return value;
}

export function configurationError(factory: string, field: string, message: string): never {
  throw new PresenceConfigurationError(`${factory}.${field}`, `${factory}(): ${message}`);
}
