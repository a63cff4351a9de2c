/** Operation names used in counters and fault rules; they match the names our client uses. */
export type OperationName =
  | 'hereNow'
  | 'whereNow'
  | 'getPresenceState'
  | 'setPresenceState'
  | 'heartbeat'
  | 'leave'
  | 'time'
  | 'channelGroups'
  | 'subscribe'
  | 'other';

export const operationNames: readonly OperationName[] = [
  'hereNow',
  'whereNow',
  'getPresenceState',
  'setPresenceState',
  'heartbeat',
  'leave',
  'time',
  'channelGroups',
  'subscribe',
  'other',
];

export type Route =
  /** `channels === null` is global here-now (no `/channel` segment). */
  | { kind: 'hereNow'; subKey: string; channels: string[] | null }
  | { kind: 'whereNow'; subKey: string; uuid: string }
  | { kind: 'getState'; subKey: string; channels: string[]; uuid: string }
  | { kind: 'setState'; subKey: string; channels: string[]; uuid: string }
  | { kind: 'heartbeat'; subKey: string; channels: string[] }
  | { kind: 'leave'; subKey: string; channels: string[] }
  /** `channels` as in the path, `-pnpres` names included; groups come from the `channel-group` param. */
  | { kind: 'subscribe'; subKey: string; channels: string[] }
  /** `group === null` lists groups; `deleteGroup` is the `/remove` suffix. */
  | { kind: 'channelGroup'; subKey: string; group: string | null; deleteGroup: boolean }
  | { kind: 'time' }
  | { kind: 'admin'; action: string }
  | { kind: 'notFound' };

export interface ParsedRequest {
  /** Path exactly as sent (still percent-encoded): used in 404 bodies and for signatures. */
  rawPath: string;
  /** Decoded query pairs in wire order, repeats kept (the signature covers all of them). */
  query: Array<[string, string]>;
  /** First value per key, for lookups. */
  params: Map<string, string>;
  route: Route;
}

export class RequestParseError extends Error {}

export const ADMIN_PREFIX = '/__emulator/';

/** Decode one component; `decodeURIComponent` throws URIError on bad `%` sequences. */
function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new RequestParseError(`bad percent-encoding: ${value.slice(0, 64)}`);
  }
}

/**
 * Split a raw channel-list path segment on literal commas BEFORE decoding (a comma inside a name travels
 * as `%2C`, notes §1.2). The lone `,` placeholder and empty names yield nothing; duplicates are dropped.
 */
export function splitNames(rawSegment: string): string[] {
  const out: string[] = [];
  for (const part of rawSegment.split(',')) {
    if (part === '') continue;
    const name = decode(part);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** Split a decoded `channel-group` value on `,` (notes §1.3: decode the query first, then split). */
export function splitList(value: string | undefined): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const name of value.split(',')) if (name !== '' && !out.includes(name)) out.push(name);
  return out;
}

function parseQuery(raw: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (raw === '') return pairs;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    // `+` is left alone: the SDKs send spaces as %20, and a literal `+` must survive for signatures.
    if (eq === -1) pairs.push([decode(part), '']);
    else pairs.push([decode(part.slice(0, eq)), decode(part.slice(eq + 1))]);
  }
  return pairs;
}

function routePath(rawPath: string): Route {
  if (rawPath.startsWith(ADMIN_PREFIX)) return { kind: 'admin', action: rawPath.slice(ADMIN_PREFIX.length) };
  if (rawPath === '/time/0' || rawPath === '/time/0/') return { kind: 'time' };
  const s = rawPath.split('/');
  // s[0] is '' because the path starts with '/'.
  if (s[1] === 'v2' && s[2] === 'presence' && (s[3] === 'sub-key' || s[3] === 'sub_key') && s[4] !== undefined) {
    const subKey = decode(s[4]);
    if (s.length === 5) return { kind: 'hereNow', subKey, channels: null };
    if (s[5] === 'channel' && s[6] !== undefined) {
      const channels = splitNames(s[6]);
      if (s.length === 7) return { kind: 'hereNow', subKey, channels };
      if (s.length === 8 && s[7] === 'heartbeat') return { kind: 'heartbeat', subKey, channels };
      if (s.length === 8 && s[7] === 'leave') return { kind: 'leave', subKey, channels };
      if (s[7] === 'uuid' && s[8] !== undefined) {
        const uuid = decode(s[8]);
        if (s.length === 9) return { kind: 'getState', subKey, channels, uuid };
        if (s.length === 10 && s[9] === 'data') return { kind: 'setState', subKey, channels, uuid };
      }
    }
    if (s[5] === 'uuid' && s[6] !== undefined && s.length === 7) {
      return { kind: 'whereNow', subKey, uuid: decode(s[6]) };
    }
    return { kind: 'notFound' };
  }
  // `/v2/subscribe/{sub}/{channels or ","}/{callback}`: the callback segment is always `0` from the SDKs.
  if (s[1] === 'v2' && s[2] === 'subscribe' && s[3] !== undefined && s[4] !== undefined && s.length === 6) {
    return { kind: 'subscribe', subKey: decode(s[3]), channels: splitNames(s[4]) };
  }
  if (s[1] === 'v1' && s[2] === 'channel-registration' && s[3] === 'sub-key' && s[4] !== undefined && s[5] === 'channel-group') {
    const subKey = decode(s[4]);
    if (s.length === 6) return { kind: 'channelGroup', subKey, group: null, deleteGroup: false };
    if (s[6] !== undefined && s[6] !== '') {
      const group = decode(s[6]);
      if (s.length === 7) return { kind: 'channelGroup', subKey, group, deleteGroup: false };
      if (s.length === 8 && s[7] === 'remove') return { kind: 'channelGroup', subKey, group, deleteGroup: true };
    }
  }
  return { kind: 'notFound' };
}

/**
 * Parse a request target. Throws RequestParseError for undecodable input; everything unknown is a
 * `notFound` route so the caller can answer with the Presence 404 body.
 */
export function parseRequest(url: string): ParsedRequest {
  let target = url;
  // Absolute-form targets (`GET http://host/path`) are legal HTTP/1.1; keep only the path.
  if (!target.startsWith('/')) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
    target = m ? target.slice(m[0].length) || '/' : `/${target}`;
  }
  const hash = target.indexOf('#');
  if (hash !== -1) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = parseQuery(q === -1 ? '' : target.slice(q + 1));
  const params = new Map<string, string>();
  for (const [key, value] of query) if (!params.has(key)) params.set(key, value);
  return { rawPath, query, params, route: routePath(rawPath) };
}

export function operationOf(route: Route): OperationName {
  switch (route.kind) {
    case 'hereNow':
      // Global here-now is counted as `hereNow` too: it is the same operation on the client side.
      return 'hereNow';
    case 'whereNow':
      return 'whereNow';
    case 'getState':
      return 'getPresenceState';
    case 'setState':
      return 'setPresenceState';
    case 'heartbeat':
      return 'heartbeat';
    case 'leave':
      return 'leave';
    case 'channelGroup':
      return 'channelGroups';
    case 'time':
      return 'time';
    case 'subscribe':
      return 'subscribe';
    default:
      return 'other';
  }
}
