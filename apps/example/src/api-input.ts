import { MAX_HEARTBEAT_SECONDS, MAX_NAME_LENGTH, type JsonValue } from '@presence/core';
import { BadRequest } from './http-errors.js';

/**
 * The API's own checks on what a client sends, in the API's words (`room`, `user`, `state`), before
 * any presence call: the same rules PubNub applies to names (notes §8), so a bad name never goes
 * upstream and the message never names a library option.
 */

// PubNub does not allow `,` `:` `*` `/` `\`, a space or control characters in a channel name (notes §8).
/* eslint-disable no-control-regex -- these patterns look for control characters on purpose */
const INVALID_ROOM_CHAR = /[,:*/\\ \u0000-\u001f\u007f-\u009f]/u;
// A user id may hold any printable text; control characters would corrupt logs and the page.
const INVALID_USER_CHAR = /[\u0000-\u001f\u007f-\u009f]/u;
/* eslint-enable no-control-regex */

/** The largest state (as JSON text) the service stores; PubNub's own limit is 32 KiB per request. */
export const MAX_STATE_BYTES = 16 * 1024;

function describeChar(char: string): string {
  const code = char.codePointAt(0)!;
  if (char === ' ') return 'a space';
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `"${char}"`;
}

function checkName(field: 'room' | 'user', value: string, invalid: RegExp, allowed: string): string {
  if (value.length === 0) throw new BadRequest(400, 'validation_error', `The ${field} name is empty; give a ${field} name.`, field);
  const length = [...value].length;
  if (length > MAX_NAME_LENGTH) {
    throw new BadRequest(400, 'validation_error', `The ${field} name is ${length} characters long; it may have at most ${MAX_NAME_LENGTH}.`, field);
  }
  const bad = invalid.exec(value);
  if (bad) throw new BadRequest(400, 'validation_error', `The ${field} name contains ${describeChar(bad[0])}; ${allowed}`, field);
  return value;
}

export function checkRoom(value: string, field: 'room' | 'rooms' = 'room'): string {
  try {
    return checkName('room', value, INVALID_ROOM_CHAR, 'room names may not contain , : * / \\ spaces or control characters.');
  } catch (error) {
    if (error instanceof BadRequest && field !== 'room') throw new BadRequest(error.status, error.code, error.message, field);
    throw error;
  }
}

export function checkUser(value: string): string {
  return checkName('user', value, INVALID_USER_CHAR, 'user names may not contain control characters.');
}

/** `?rooms=a,b`: one or more room names. */
export function roomsParam(url: URL): string[] {
  const rooms = url.searchParams.get('rooms');
  if (!rooms) throw new BadRequest(400, 'validation_error', 'Give the rooms to read as ?rooms=a,b.', 'rooms');
  return [...new Set(rooms.split(',').map((room) => checkRoom(room, 'rooms')))];
}

const TRUE_VALUES = ['1', 'true'];
const FALSE_VALUES = ['0', 'false'];

/** `?state=1|true|0|false` (absent = without state); anything else is a mistake worth saying. */
export function stateParam(url: URL): boolean {
  const raw = url.searchParams.get('state');
  if (raw === null) return false;
  if (TRUE_VALUES.includes(raw)) return true;
  if (FALSE_VALUES.includes(raw)) return false;
  throw new BadRequest(400, 'validation_error', `state must be 1 or true (include each occupant's state) or 0 or false; got ${JSON.stringify(raw.slice(0, 40))}.`, 'state');
}

/** `?heartbeat=N`: seconds the user stays present without another heartbeat. */
export function heartbeatParam(url: URL): number | undefined {
  const raw = url.searchParams.get('heartbeat');
  if (raw === null) return undefined;
  const seconds = Number(raw);
  if (!/^\d+$/.test(raw) || seconds < 1 || seconds > MAX_HEARTBEAT_SECONDS) {
    throw new BadRequest(400, 'validation_error', `heartbeat must be a whole number of seconds from 1 to ${MAX_HEARTBEAT_SECONDS}.`, 'heartbeat');
  }
  return seconds;
}

/** A presence state: a JSON object of at most MAX_STATE_BYTES. */
export function checkState(value: unknown): { [key: string]: JsonValue } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequest(400, 'validation_error', `The state must be a JSON object such as {"mood":"curious"}; got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}.`, 'state');
  }
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > MAX_STATE_BYTES) {
    throw new BadRequest(400, 'validation_error', `The state is ${bytes} bytes of JSON; it may have at most ${MAX_STATE_BYTES}.`, 'state');
  }
  return value as { [key: string]: JsonValue };
}
