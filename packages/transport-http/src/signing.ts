import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import {
  deriveCall,
  encodeParam,
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
  return createSigner(checkNow(options.now));
}

/**
 * A signed request that also holds the request line the signer built anyway, so the HTTP transport
 * sends it without encoding anything twice. Private, so a middleware's `{ ...request }` copy (which
 * may change the query) does not carry a stale line: the transport then encodes the copy itself.
 */
export class SignedRequest implements PresenceRequest {
  readonly operation: PresenceRequest['operation'];
  readonly path: string;
  readonly query: readonly QueryParam[];
  readonly #target: string;

  constructor(request: PresenceRequest, query: readonly QueryParam[], target: string) {
    this.operation = request.operation;
    this.path = request.path;
    this.query = query;
    this.#target = target;
  }

  /** The encoded request line of a request this signer made, else undefined. */
  static targetOf(request: PresenceRequest): string | undefined {
    return request instanceof SignedRequest ? request.#target : undefined;
  }
}

/** The signing middleware itself, with the clock it reads for `timestamp`. */
export function createSigner(now: () => number): Middleware {
  return (next, { config }) => {
    if (!config.secretKey) return next;
    // Reveal the secret once, into a KeyObject, rather than on every request.
    const key = createSecretKey(Buffer.from(config.secretKey.reveal(), 'utf8'));
    const publishKey = config.publishKey ?? 'undefined';
    return (call) => {
      const request = call.request!;
      const given = request.query;
      const query: QueryParam[] = [];
      const pairs: Array<readonly [string, string]> = [];
      let line = '';
      for (let i = 0; i < given.length; i++) {
        const param = given[i]!;
        const name = param[0];
        if (name === 'timestamp' || name === 'signature') continue;
        const value = encodeParam(name, param[1]);
        query.push(param);
        pairs.push(value === param[1] ? param : [name, value]);
        line += `${line ? '&' : ''}${name}=${value}`;
      }
      // Digits only: nothing to encode.
      const timestamp = String(Math.floor(now() / 1000));
      const stamp = ['timestamp', timestamp] as const;
      query.push(stamp);
      pairs.push(stamp);
      pairs.sort(compareParams);
      let sorted = '';
      for (let i = 0; i < pairs.length; i++) sorted += `${i ? '&' : ''}${pairs[i]![0]}=${pairs[i]![1]}`;
      const signature = `v2.${createHmac('sha256', key).update(`GET\n${publishKey}\n${request.path}\n${sorted}\n`).digest('base64url')}`;
      query.push(['signature', signature]);
      // base64url and `.` are unreserved: the signature goes on the line as it is.
      const target = `${request.path}?${line ? `${line}&` : ''}timestamp=${timestamp}&signature=${signature}`;
      return next(deriveCall(call, { request: new SignedRequest(request, query, target) }));
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
