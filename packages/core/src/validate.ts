import { PresenceValidationError } from './errors/validation-error.js';
import type { OperationName } from './types.js';

/** PubNub's documented limits (protocol notes §8). */
export const MAX_NAME_LENGTH = 92;
export const MAX_URL_BYTES = 32 * 1024;
export const MAX_LIMIT = 1000;

// Documented as invalid in channel names: `,` `:` `*` `/` `\` space, NUL and control characters.
const INVALID_CHANNEL_CHAR = /[,:*/\\ \u0000-\u001f\u007f]/u;
// Channel groups also reserve `.` ("Reserved character in input parameters.").
const INVALID_GROUP_CHAR = /[,:*/\\. \u0000-\u001f\u007f]/u;

function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (char === ' ') return 'a space';
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `"${char}"`;
}

function fail(operation: OperationName, field: string, rule: string, message: string): never {
  throw new PresenceValidationError(field, rule, `${operation}: ${message}`, { operation });
}

function checkName(operation: OperationName, field: string, value: unknown, kind: 'channel' | 'channel group'): string {
  if (typeof value !== 'string' || value.length === 0) {
    fail(operation, field, 'required', `${field} must be a non-empty ${kind} name string; got ${describeValue(value)}.`);
  }
  const length = [...value].length;
  if (length > MAX_NAME_LENGTH) {
    fail(operation, field, 'max-length', `${field} is ${length} characters long; a ${kind} name may have at most ${MAX_NAME_LENGTH}.`);
  }
  const bad = (kind === 'channel' ? INVALID_CHANNEL_CHAR : INVALID_GROUP_CHAR).exec(value);
  if (bad) {
    fail(operation, field, 'invalid-character', `${field} "${value}" contains ${describeChar(bad[0])}, which PubNub does not allow in a ${kind} name; remove or replace it.`);
  }
  return value;
}

/** Validates a list of names and drops repeats, keeping the first occurrence's order. */
export function checkNames(
  operation: OperationName,
  field: 'channels' | 'channelGroups',
  value: unknown,
): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(operation, field, 'type', `${field} must be an array of names; got ${describeValue(value)}.`);
  const kind = field === 'channels' ? 'channel' : 'channel group';
  if (value.length === 1) return [checkName(operation, `${field}[0]`, value[0], kind)];
  const seen = new Set<string>();
  value.forEach((name, index) => seen.add(checkName(operation, `${field}[${index}]`, name, kind)));
  return [...seen];
}

export function checkUserId(operation: OperationName, field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    fail(operation, field, 'required', `${field} must be a non-empty string; got ${describeValue(value)}.`);
  }
  const length = [...value].length;
  if (length > MAX_NAME_LENGTH) {
    fail(operation, field, 'max-length', `${field} is ${length} characters long; a user id may have at most ${MAX_NAME_LENGTH}.`);
  }
  return value;
}

export function checkInteger(
  operation: OperationName,
  field: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    fail(operation, field, 'range', `${field} must be a whole number ${range}; got ${describeValue(value)}.`);
  }
  return value;
}

export function checkBoolean(operation: OperationName, field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(operation, field, 'type', `${field} must be true or false; got ${describeValue(value)}.`);
  return value;
}

export function requireTargets(operation: OperationName, channels: readonly string[], channelGroups: readonly string[]): void {
  if (channels.length === 0 && channelGroups.length === 0) {
    fail(operation, 'channels', 'required', 'give at least one channel in channels or one group in channelGroups.');
  }
}

/** Rejects inputs whose whole request line would exceed what PubNub accepts in a GET (~32 KiB). */
export function checkUrlSize(operation: OperationName, field: string, bytes: number): void {
  if (bytes > MAX_URL_BYTES) {
    fail(operation, field, 'max-size', `the request would be ${bytes} bytes long; PubNub accepts at most ${MAX_URL_BYTES} (32 KiB) in a GET. Send fewer channels or a smaller state.`);
  }
}

export function checkInput(operation: OperationName, input: unknown): Record<string, unknown> {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    fail(operation, 'input', 'type', `the input parameters must be an object; got ${describeValue(input)}.`);
  }
  return input as Record<string, unknown>;
}

/** A short, safe description of a bad value for a message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value;
}
