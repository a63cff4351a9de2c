import { PresenceValidationError } from './errors/validation-error.js';
import type { JsonValue, StateSerializer } from './types.js';
import { describeValue } from './validate.js';

function checkJson(value: unknown, path: string, seen: Set<object>): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return;
    throw reject(path, 'json-value', `is ${value}, which JSON cannot carry`);
  }
  if (typeof value !== 'object') throw reject(path, 'json-value', `is ${describeValue(value)}, which JSON cannot carry`);
  if (seen.has(value)) throw reject(path, 'json-value', 'refers back to itself');
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    throw reject(path, 'json-value', `is a ${proto?.constructor?.name ?? 'class'} instance; use plain objects, arrays, strings, numbers, booleans and null`);
  }
  seen.add(value);
  for (const [key, child] of Object.entries(value)) checkJson(child, path ? `${path}.${key}` : key, seen);
  seen.delete(value);
}

function reject(path: string, rule: string, what: string): PresenceValidationError {
  const field = path ? `state.${path}` : 'state';
  return new PresenceValidationError(field, rule, `${field} ${what}.`);
}

/**
 * The default serializer: state is any JSON object, sent and returned as plain values.
 * PubNub requires state to be a JSON object (notes §8), so anything else is refused before sending.
 */
export function jsonValues(): StateSerializer<JsonValue> {
  return {
    id: 'json-values',
    encode(state) {
      if (typeof state !== 'object' || state === null || Array.isArray(state)) {
        throw new PresenceValidationError('state', 'json-object', `state must be a JSON object of key/value pairs, as PubNub requires; got ${describeValue(state)}.`);
      }
      checkJson(state, '', new Set());
      return JSON.stringify(state);
    },
    decode: (value) => value,
  };
}
