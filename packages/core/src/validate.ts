import { PresenceValidationError } from './errors/validation-error.js';
import type { OperationName } from './types.js';

/** PubNub's documented limits (protocol notes §8). */
export const MAX_NAME_LENGTH = 92;
export const MAX_URL_BYTES = 32 * 1024;
export const MAX_LIMIT = 1000;

/* eslint-disable no-control-regex -- these patterns exist to find control characters */
// Documented as invalid in channel names: `,` `:` `*` `/` `\` space, NUL and control characters (notes §8);
// a lone surrogate cannot be percent-encoded at all.
const INVALID_CHANNEL_CHAR = /[,:*/\\ \u0000-\u001f\u007f-\u009f\p{Cs}]/u;
// Channel groups also reserve `.` ("Reserved character in input parameters.").
const INVALID_GROUP_CHAR = /[,:*/\\. \u0000-\u001f\u007f-\u009f\p{Cs}]/u;
// A user id may hold any printable text (`user#1`, an email), but never NUL, a control character
// (a newline would split a log line or a header) or a lone surrogate.
const INVALID_USER_ID_CHAR = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\p{Cs}]/u;
// A subscribe key is a path segment of every request: printable ASCII, no space and no URL delimiter.
const INVALID_KEY_CHAR = /[^\u0021-\u007e]|[/\\?#%]/u;
/* eslint-enable no-control-regex */

function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (char === ' ') return 'a space';
  if (code >= 0xd800 && code <= 0xdfff) return `a lone surrogate ${hex}`;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `control character ${hex}`;
  if (code === 0x2028 || code === 0x2029) return `line separator ${hex}`;
  if (code > 0x7e || /\s/u.test(char)) return `"${char}" (${hex})`;
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
    fail(operation, field, 'invalid-character', `${field} ${JSON.stringify(value)} contains ${describeChar(bad[0])}, which PubNub does not allow in a ${kind} name; remove or replace it.`);
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

/** What is wrong with a user id (rule and message), or undefined when it is fine. Shared by the client's options and every call. */
export function userIdProblem(field: string, value: unknown): { rule: string; message: string } | undefined {
  if (typeof value !== 'string' || value.length === 0) {
    return { rule: 'required', message: `${field} must be a non-empty string; got ${describeValue(value)}.` };
  }
  const length = [...value].length;
  if (length > MAX_NAME_LENGTH) {
    return { rule: 'max-length', message: `${field} is ${length} characters long; a user id may have at most ${MAX_NAME_LENGTH}.` };
  }
  const bad = INVALID_USER_ID_CHAR.exec(value);
  if (bad) {
    return { rule: 'invalid-character', message: `${field} contains ${describeChar(bad[0])}, which a user id may not hold; remove or replace it.` };
  }
  return undefined;
}

/** What is wrong with a subscribe key, or undefined when it is fine. */
export function subscribeKeyProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return `subscribeKey must be a non-empty string; got ${describeValue(value)}. Find it in the PubNub admin portal under your key set.`;
  const bad = INVALID_KEY_CHAR.exec(value);
  if (bad) return `subscribeKey contains ${describeChar(bad[0])}; a key is printable ASCII without spaces, "/", "\\", "?", "#" or "%". Copy it again from the PubNub admin portal.`;
  return undefined;
}

export function checkUserId(operation: OperationName, field: string, value: unknown): string {
  const problem = userIdProblem(field, value);
  if (problem) fail(operation, field, problem.rule, problem.message);
  return value as string;
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

/**
 * At least one channel or group. An empty list counts as none: a room list computed empty must
 * never widen a call (for here-now, to every channel of the key).
 */
export function requireTargets(operation: OperationName, channels: readonly string[], channelGroups: readonly string[], input: Record<string, unknown>, alternative = ''): void {
  if (channels.length === 0 && channelGroups.length === 0) {
    const given = (['channels', 'channelGroups'] as const).filter((field) => Array.isArray(input[field]));
    const said = given.length === 0 ? 'neither channels nor channelGroups is given' : `${given.join(' and ')} ${given.length === 1 ? 'is an empty list' : 'are empty lists'}`;
    fail(operation, 'channels', 'required', `${said}; give at least one channel in channels or one group in channelGroups${alternative}.`);
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
