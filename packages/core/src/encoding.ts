import type { PresenceRequest, QueryParam } from './types.js';

/**
 * Percent-encodes one value exactly as the official JS SDK does (`encodeString` in its
 * `src/core/utils.ts`; protocol notes §1.3): `encodeURIComponent`, then `!~*'()` encoded too.
 * Only `A-Z a-z 0-9 - _ .` stay as they are.
 */
export function encodeString(value: string): string {
  return encodeURIComponent(value).replace(/[!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * A channel path segment: each name encoded on its own and joined with a raw comma, or the
 * literal `,` placeholder for an empty list (protocol notes §1.2).
 */
export function encodeNames(names: readonly string[]): string {
  return names.length === 0 ? ',' : names.map(encodeString).join(',');
}

/** The query string, in insertion order, each value encoded with `encodeString`. */
export function encodeQuery(query: readonly QueryParam[]): string {
  let out = '';
  for (const [name, value] of query) out += `${out ? '&' : ''}${name}=${encodeString(value)}`;
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
