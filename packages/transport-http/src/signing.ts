import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import {
  encodeString,
  PresenceConfigurationError,
  type Middleware,
  type MiddlewareOptions,
  type Plugin,
  type PresenceRequest,
  type QueryParam,
} from '@presence/core';

/** What a v2 signature covers (protocol notes §2). */
export interface SignatureInput {
  /** The publish key configured on the client; part of the string to sign. */
  readonly publishKey: string;
  /** The request path, already percent-encoded, e.g. `/v2/presence/sub-key/demo/channel/ch1`. */
  readonly path: string;
  /** Raw (not yet encoded) query parameters, `timestamp` included; any `signature` is ignored. */
  readonly query: readonly QueryParam[];
  /** Default `GET`: every presence call is a GET. */
  readonly method?: string;
}

function compareParams(a: readonly [string, string], b: readonly [string, string]): number {
  // Code-unit order, as `Array.prototype.sort` orders the JS SDK's keys; repeated keys by value.
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/**
 * The exact string PubNub signs: `{METHOD}\n{publishKey}\n{path}\n{sortedQuery}\n`, where
 * sortedQuery is every parameter but `signature`, sorted by name, as `name=encodeString(value)`.
 */
export function stringToSign(input: SignatureInput): string {
  const params: Array<readonly [string, string]> = [];
  for (const [name, value] of input.query) if (name !== 'signature') params.push([name, encodeString(value)]);
  params.sort(compareParams);
  let query = '';
  for (const [name, value] of params) query += `${query ? '&' : ''}${name}=${value}`;
  return `${(input.method ?? 'GET').toUpperCase()}\n${input.publishKey}\n${input.path}\n${query}\n`;
}

/**
 * The v2 signature of a request: `v2.` + base64url(HMAC-SHA256(secretKey, stringToSign)), unpadded.
 * `secretKey` may be a string or a KeyObject made once with `createSecretKey`.
 */
export function signRequest(secretKey: string | KeyObject, input: SignatureInput): string {
  return `v2.${createHmac('sha256', secretKey).update(stringToSign(input)).digest('base64url')}`;
}

export interface SigningOptions {
  /** Clock in epoch milliseconds for the `timestamp` parameter; default `Date.now`. For tests. */
  now?: () => number;
}

/** Where signing sits: last in the finalize step, after `commonParams`, so it signs every attempt afresh. */
export const signingOptions: MiddlewareOptions = { name: 'signing', step: 'finalize', priority: -100 };

/**
 * The signing middleware for a client with a `secretKey`: adds `timestamp` (unix seconds) and then
 * `signature` to every attempt's request. Without a secret key it passes requests through.
 */
export function signingMiddleware(options: SigningOptions = {}): Middleware {
  return createSigner(checkNow(options.now), undefined);
}

/**
 * The middleware itself. When `targets` is given (by the HTTP transport that owns it), the encoded
 * request line it builds anyway is kept there for the transport, so no value is encoded twice.
 */
export function createSigner(now: () => number, targets: WeakMap<PresenceRequest, string> | undefined): Middleware {
  return (next, { config }) => {
    if (!config.secretKey) return next;
    // Reveal the secret once, into a KeyObject, rather than on every request.
    const key = createSecretKey(Buffer.from(config.secretKey.reveal(), 'utf8'));
    const publishKey = config.publishKey ?? 'undefined';
    return (call) => {
      const request = call.request!;
      const query: QueryParam[] = [];
      const pairs: Array<[string, string]> = [];
      let line = '';
      for (const param of request.query) {
        const name = param[0];
        if (name === 'timestamp' || name === 'signature') continue;
        const value = encodeString(param[1]);
        query.push(param);
        pairs.push([name, value]);
        line += `${line ? '&' : ''}${name}=${value}`;
      }
      // Digits only: nothing to encode.
      const timestamp = String(Math.floor(now() / 1000));
      query.push(['timestamp', timestamp]);
      pairs.push(['timestamp', timestamp]);
      pairs.sort(compareParams);
      let sorted = '';
      for (const [name, value] of pairs) sorted += `${sorted ? '&' : ''}${name}=${value}`;
      const signature = `v2.${createHmac('sha256', key).update(`GET\n${publishKey}\n${request.path}\n${sorted}\n`).digest('base64url')}`;
      query.push(['signature', signature]);
      const signed = { ...request, query };
      // base64url and `.` are unreserved: the signature goes on the line as it is.
      targets?.set(signed, `${request.path}?${line ? `${line}&` : ''}timestamp=${timestamp}&signature=${signature}`);
      return next({ ...call, request: signed });
    };
  };
}

/**
 * Request signing as a plugin, for a client whose transport does not sign by itself
 * (`httpTransport()` already adds it). Adds nothing when the client has no `secretKey`.
 */
export function signing(options: SigningOptions = {}): Plugin {
  const middleware = signingMiddleware(options);
  return {
    name: 'signing',
    apply(stack) {
      if (stack.context.config.secretKey) stack.add(middleware, signingOptions);
    },
  };
}

export function checkNow(now: unknown): () => number {
  if (now === undefined) return Date.now;
  if (typeof now !== 'function') {
    throw new PresenceConfigurationError('signing.now', `signing: now must be a function returning epoch milliseconds; got ${typeof now}.`);
  }
  return now as () => number;
}
