import { rejectUnknownOptions, type JsonObject, type JsonValue, type StateSerializer } from '@presence/core';
import type { StandardSchemaV1 } from './standard-schema.js';
import { checkMaxBytes, checkSize, configurationError, isJsonObject, notAnObject, stringifyState } from './state-text.js';
import { validateWithSchema } from './validate-with-schema.js';

export interface JsonOptions<S> {
  /**
   * Any Standard Schema (zod, valibot, arktype, …) whose output is the state type. It checks the
   * state before sending (nothing is sent if it fails) and every state read back from responses.
   * Its output value is what is sent and returned, so transforms and defaults apply.
   */
  schema?: StandardSchemaV1<unknown, S> | undefined;
  /** Largest JSON text allowed, in UTF-8 bytes. Default 32 KiB (PubNub's URL limit, notes §8). */
  maxBytes?: number | undefined;
  /**
   * Names this codec in cache keys (`json:<vendor>:<id>`). Give each schema its own id when
   * clients with different schemas share a cache, so one never reads states decoded by another.
   */
  id?: string | undefined;
}

/**
 * Typed JSON state: `S` on your side, the JSON text of an object on the wire.
 * With a `schema`, states are validated both ways; without one, `S` is trusted as given.
 */
export function json<S = JsonObject>(options: JsonOptions<S> = {}): StateSerializer<S> {
  if (typeof options !== 'object' || options === null) configurationError('json', 'options', 'pass an options object, e.g. json({ schema }), or nothing.');
  rejectUnknownOptions('json()', options, ['schema', 'maxBytes', 'id'], 'json.');
  const { schema, id } = options;
  const maxBytes = checkMaxBytes('json', options.maxBytes);
  if (schema !== undefined && typeof (schema as Partial<StandardSchemaV1>)?.['~standard']?.validate !== 'function') {
    configurationError('json', 'schema', 'schema must implement Standard Schema (a "~standard" property with validate()), as zod, valibot and arktype schemas do.');
  }
  if (id !== undefined && (typeof id !== 'string' || id.length === 0)) configurationError('json', 'id', `id must be a non-empty string when given; got ${String(id)}.`);
  const codecId = ['json', schema?.['~standard'].vendor, id].filter(Boolean).join(':');

  return {
    id: codecId,
    encode(state) {
      // Checked before the schema too: some schemas (valibot's object) accept an array and return {}.
      if (!isJsonObject(state)) throw notAnObject(state, 'State');
      const value = schema ? validateWithSchema(schema, state, 'encode') : state;
      const text = stringifyState(value);
      checkSize(text, maxBytes, codecId);
      return text;
    },
    decode(value: JsonValue) {
      if (!isJsonObject(value)) throw notAnObject(value, 'A state in the response');
      return schema ? validateWithSchema(schema, value, 'decode') : (value as S);
    },
  };
}
