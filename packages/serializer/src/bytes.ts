import type { JsonValue, StateSerializer } from '@presence/core';
import { PresenceSerializationError, rejectUnknownOptions } from '@presence/core';
import { checkMaxBytes, checkSize, configurationError, isJsonObject, notAnObject } from './state-text.js';

export interface BytesOptions {
  /** Largest JSON text allowed, in UTF-8 bytes (after compacting). Default 32 KiB (PubNub's URL limit). */
  maxBytes?: number | undefined;
}

/**
 * Raw state: a `Uint8Array` holding the UTF-8 JSON text of the state object, for callers who
 * bring their own JSON handling. Sending checks the bytes are UTF-8 JSON of an object and sends
 * it compacted; states read back are the compact JSON text of what the server returned.
 */
export function bytes(options: BytesOptions = {}): StateSerializer<Uint8Array> {
  if (typeof options !== 'object' || options === null) configurationError('bytes', 'options', 'pass an options object, e.g. bytes({ maxBytes: 4096 }), or nothing.');
  rejectUnknownOptions('bytes()', options, ['maxBytes'], 'bytes.');
  const maxBytes = checkMaxBytes('bytes', options.maxBytes);
  // Per serializer, not per module: `fatal` makes invalid UTF-8 an error instead of U+FFFD.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const encoder = new TextEncoder();

  return {
    id: 'bytes',
    encode(state) {
      if (!(state instanceof Uint8Array)) {
        throw new PresenceSerializationError(`bytes(): the state must be a Uint8Array of UTF-8 JSON text; got ${state === null ? 'null' : typeof state}. Use json() for plain values.`);
      }
      let text: string;
      try {
        text = decoder.decode(state);
      } catch (error) {
        throw new PresenceSerializationError('bytes(): the state is not valid UTF-8; encode the JSON text with new TextEncoder().encode(text).', { cause: error });
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new PresenceSerializationError(`bytes(): the state is not JSON (${error instanceof Error ? error.message : String(error)}); the bytes must hold the JSON text of an object.`, { cause: error });
      }
      if (!isJsonObject(value)) throw notAnObject(value, 'bytes(): the state');
      // Re-serialised compact: what goes on the wire does not depend on the caller's formatting.
      const wire = JSON.stringify(value);
      checkSize(wire, maxBytes, 'bytes');
      return wire;
    },
    decode(value: JsonValue) {
      if (!isJsonObject(value)) throw notAnObject(value, 'A state in the response');
      return encoder.encode(JSON.stringify(value));
    },
  };
}
