import type { PresenceRequest, QueryParam } from './types.js';

/** 1 for the ASCII characters that stay as they are: `A-Z a-z 0-9 - _ .`. */
const PLAIN = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.') PLAIN[c.charCodeAt(0)] = 1;

/**
 * Percent-encodes one value exactly as the official JS SDK does (`encodeString` in its
 * `src/core/utils.ts`; protocol notes §1.3): `encodeURIComponent`, then `!~*'()` encoded too.
 * Only `A-Z a-z 0-9 - _ .` stay as they are.
 */
export function encodeString(value: string): string {
  // Most values (names, ids, flags, numbers) need no encoding at all: check before building anything.
  return isPlain(value) ? value : percentEncode(value);
}

function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function isPlain(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 128 || PLAIN[code] === 0) return false;
  }
  return true;
}

// Query values that do need encoding repeat (the pnsdk name, a user id with a `#`): the last few
// hundred are kept, and the memo is dropped whole when it fills, so it stays small. Never the
// `auth` token: a secret is not kept beyond the request that carries it.
const ENCODED = new Map<string, string>();
const ENCODED_MAX = 512;

/** One query parameter's value, encoded as `encodeString` does, with repeats served from a memo. */
export function encodeParam(name: string, value: string): string {
  if (isPlain(value)) return value;
  if (name === 'auth' || value.length > 128) return percentEncode(value);
  let encoded = ENCODED.get(value);
  if (encoded === undefined) {
    encoded = percentEncode(value);
    if (ENCODED.size >= ENCODED_MAX) ENCODED.clear();
    ENCODED.set(value, encoded);
  }
  return encoded;
}

/**
 * A channel path segment: each name encoded on its own and joined with a raw comma, or the
 * literal `,` placeholder for an empty list (protocol notes §1.2).
 */
export function encodeNames(names: readonly string[]): string {
  return names.length === 0 ? ',' : names.map(encodeString).join(',');
}

/** The query string, in insertion order, each value encoded with `encodeParam`. */
export function encodeQuery(query: readonly QueryParam[]): string {
  let out = '';
  for (const [name, value] of query) out += `${out ? '&' : ''}${name}=${encodeParam(name, value)}`;
  return out;
}

/** Path plus query, as it goes on the request line. */
export function requestTarget(request: PresenceRequest): string {
  const query = encodeQuery(request.query);
  return query ? `${request.path}?${query}` : request.path;
}

/** Decodes a raw channel segment: split on raw commas first, then percent-decode each name. */
export function decodeNames(segment: string): string[] {
  return segment === ',' ? [] : segment.split(',').map((name) => decodeURIComponent(name));
}
