import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { once } from 'node:events';
import zlib from 'node:zlib';
import {
  describeValue,
  encodeString,
  excerptOf,
  PresenceConfigurationError,
  PresenceNetworkError,
  PresenceProtocolError,
  requestTarget,
  scrubSecrets,
  type PresenceRequest,
  type PresenceResponse,
  type Stack,
  type Transport,
  type TransportContext,
  rejectUnknownOptions,
} from '@presence/core';
import { checkNow, createSigner, SignedRequest, signingOptions } from './signing.js';

export const DEFAULT_ORIGIN = 'https://ps.pndsn.com';
export const DEFAULT_MAX_SOCKETS = 50;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Idle keep-alive sockets are closed after this, before a server or a NAT drops them silently. */
const FREE_SOCKET_TIMEOUT_MS = 15_000;

export interface HttpTransportOptions {
  /** `https://host[:port]` or `http://host[:port]`, nothing after the host. Default `https://ps.pndsn.com`. */
  origin?: string;
  /** Most sockets open at once to the origin (keep-alive pool size). Default 50. Ignored with `agent`. */
  maxSockets?: number;
  /**
   * Per-attempt limit in ms, from sending to the last byte of the body. When it passes, the attempt
   * fails with a PresenceNetworkError whose `errno` is `ETIMEDOUT` (retryable; `retry()` counts it as
   * a timeout). Default: none, only the call's deadline applies.
   */
  timeoutMs?: number;
  /** Your own http(s).Agent, e.g. with TLS options. It is not destroyed by `close()`. */
  agent?: http.Agent;
  /** Extra request headers. `host`, `accept-encoding`, `connection`, `content-length` and `transfer-encoding` are the transport's. */
  headers?: Record<string, string>;
  /** Largest response body accepted, after decompression. Default 1 MiB; a larger one is a PresenceProtocolError. */
  maxBodyBytes?: number;
  /** Clock in epoch ms for the signature `timestamp`; default `Date.now`. For tests. */
  now?: () => number;
}

export interface HttpTransport extends Transport {
  readonly name: 'http';
  /** The keep-alive pool: the one given, or the transport's own. */
  readonly agent: http.Agent;
  readonly closed: boolean;
  /** Destroys the transport's own pool and resolves once every socket has closed. A given `agent` is left open. */
  close(): Promise<void>;
}

const RESERVED_HEADERS = new Set(['host', 'accept-encoding', 'connection', 'content-length', 'transfer-encoding']);
/** Query parameters whose values must never appear in an error: Access Manager token, signature. */
const SECRET_PARAMS = new Set(['auth', 'signature']);

function fail(field: string, message: string): never {
  throw new PresenceConfigurationError(`httpTransport.${field}`, `httpTransport: ${message}`);
}

function checkInteger(field: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    fail(field, `${field} must be an integer from 1 to ${max}; got ${describeValue(value)}.`);
  }
  return value;
}

function parseOrigin(origin: unknown): URL {
  if (typeof origin !== 'string' || origin.length === 0) fail('origin', `origin must be a URL such as ${DEFAULT_ORIGIN}; got ${String(origin)}.`);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return fail('origin', `origin "${origin}" is not a URL; write it like ${DEFAULT_ORIGIN} or http://127.0.0.1:8080.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('origin', `origin must start with https:// or http://; got "${url.protocol}".`);
  if (url.username || url.password) fail('origin', 'origin must not carry credentials; use authKey on the client instead.');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    fail('origin', `origin must be only scheme, host and port (e.g. ${url.origin}); paths are built by each operation.`);
  }
  return url;
}

function checkHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) fail('headers', 'headers must be an object of header names to string values.');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) fail('headers', `the "${lower}" header is set by the transport; leave it out.`);
    if (typeof value !== 'string') fail('headers', `header "${name}" must have a string value; got ${typeof value}.`);
    out[lower] = value;
  }
  return out;
}

/** Values of `auth` and `signature` as they may appear in text: raw and in both percent-encodings. */
function secretsOf(request: PresenceRequest): string[] {
  const out: string[] = [];
  for (const [name, value] of request.query) if (SECRET_PARAMS.has(name) && value) out.push(value, encodeString(value));
  return out;
}

/** A copy of a socket error that keeps its code and drops anything secret (some errors quote the URL). */
function safeCause(error: Error & { code?: unknown; syscall?: unknown }, request: PresenceRequest, target: string): Error {
  const message = scrubSecrets(error.message.split(target).join('[request]'), secretsOf(request));
  const copy = new Error(message) as Error & { code?: unknown; syscall?: unknown };
  if (typeof error.code === 'string') copy.code = error.code;
  if (typeof error.syscall === 'string') copy.syscall = error.syscall;
  return copy;
}

/** Header names arrive lower-cased; only `set-cookie` can be an array, folded into one string. */
function headersOf(res: IncomingMessage): Readonly<Record<string, string | undefined>> {
  const headers = res.headers;
  if (headers['set-cookie'] === undefined) return headers as Record<string, string | undefined>;
  return { ...headers, 'set-cookie': headers['set-cookie'].join(', ') };
}

interface Shared {
  readonly host: string;
  readonly maxBodyBytes: number;
}

/**
 * Errors that mean a pooled keep-alive socket was already closed when the request went out (the
 * server or a NAT closed it while it sat idle). The server may still have read the request (a
 * server can close right after reading it), so the transport never repeats it by itself: the
 * attempt fails with a PresenceNetworkError marked `staleConnection`, and retry() sends it again
 * at once, as a counted attempt within the retry budget, for operations safe to repeat.
 */
const DEAD_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

// Node's emitters call listeners with `this` set to the emitter: tagging the request and the
// response with their exchange lets a few module-level handlers serve every request, instead of
// a dozen new closures per request on the hot path.
const EXCHANGE = Symbol('presence.exchange');
type Tagged<T> = T & { [EXCHANGE]: Exchange };

/** One request in flight: its state, and how it settles (exactly once). */
class Exchange {
  req: ClientRequest | undefined;
  res: IncomingMessage | undefined;
  timer: NodeJS.Timeout | undefined;
  chunks: Buffer[] = [];
  size = 0;
  settled = false;
  /** Stops watching the call's cancellation: onCancel's stopper, or removes the signal listener. */
  stopWatching: (() => void) | undefined;

  constructor(
    readonly shared: Shared,
    readonly request: PresenceRequest,
    readonly target: string,
    readonly resolve: (response: PresenceResponse) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.stopWatching?.();
    if (this.timer !== undefined) clearTimeout(this.timer);
    return true;
  }

  /** Fails mid-exchange. Destroying the request destroys its socket, so a half-read connection never goes back to the pool. */
  abandon(error: unknown): void {
    if (!this.finish()) return;
    this.req?.destroy();
    this.reject(error);
  }

  /** Fails after the body was read in full: the socket is already back in the pool. */
  fail(error: unknown): void {
    if (this.finish()) this.reject(error);
  }

  reply(body: string): void {
    const res = this.res!;
    if (this.finish()) this.resolve({ status: res.statusCode ?? 0, headers: headersOf(res), body });
  }

  protocolError(message: string, withExcerpt: boolean): PresenceProtocolError {
    const { operation } = this.request;
    const status = this.res?.statusCode;
    const excerpt = withExcerpt && !this.res?.headers['content-encoding'] && this.size > 0
      ? excerptOf(Buffer.concat(this.chunks, this.size).toString('utf8'), secretsOf(this.request))
      : undefined;
    return new PresenceProtocolError(`${operation}: ${message} (HTTP ${status ?? 'unknown'}).`, { operation, status, excerpt });
  }

  tooLarge(): PresenceProtocolError {
    return this.protocolError(
      `the response body is larger than maxBodyBytes (${this.shared.maxBodyBytes} bytes); raise httpTransport({ maxBodyBytes }) or ask for less, e.g. a lower here-now limit`,
      false,
    );
  }

  truncated(): PresenceProtocolError {
    return this.protocolError(`the response body was cut short after ${this.size} bytes: the connection closed before its end. Retry the call; report it if it persists`, true);
  }

  inflated(error: (Error & { code?: string }) | null, body: Buffer, encoding: string): void {
    if (this.settled) return;
    if (!error) return this.reply(body.toString('utf8'));
    this.fail(error.code === 'ERR_BUFFER_TOO_LARGE'
      ? this.tooLarge()
      : this.protocolError(`the ${encoding} response body could not be decompressed (corrupt or truncated). Retry the call; report it if it persists`, false));
  }
}

function onRequestError(this: Tagged<ClientRequest>, error: Error & { code?: unknown }): void {
  const exchange = this[EXCHANGE];
  if (exchange.res) return exchange.abandon(exchange.truncated());
  const { operation } = exchange.request;
  const errno = typeof error.code === 'string' ? error.code : undefined;
  if (this.reusedSocket && errno !== undefined && DEAD_SOCKET_CODES.has(errno)) {
    return exchange.abandon(new PresenceNetworkError(
      `${operation}: the pooled keep-alive connection to ${exchange.shared.host} had been closed by the other side (${errno}); the server may have read the request. retry() sends it again at once on a new connection.`,
      errno,
      { operation, staleConnection: true, cause: safeCause(error, exchange.request, exchange.target) },
    ));
  }
  exchange.abandon(new PresenceNetworkError(
    `${operation}: the request to ${exchange.shared.host} failed before a response arrived (${errno ?? 'unknown error'}). Check the network and the origin; retry() retries this.`,
    errno,
    { operation, cause: safeCause(error, exchange.request, exchange.target) },
  ));
}

function onAttemptTimeout(exchange: Exchange, timeoutMs: number): void {
  const { operation } = exchange.request;
  exchange.abandon(new PresenceNetworkError(
    `${operation}: no complete response from ${exchange.shared.host} within the attempt timeout of ${timeoutMs} ms (httpTransport timeoutMs). Check the network or raise timeoutMs.`,
    'ETIMEDOUT',
    { operation },
  ));
}

function onResponse(this: Tagged<ClientRequest>, res: IncomingMessage): void {
  const exchange = this[EXCHANGE];
  exchange.res = res;
  (res as Tagged<IncomingMessage>)[EXCHANGE] = exchange;
  if (Number(res.headers['content-length']) > exchange.shared.maxBodyBytes) return exchange.abandon(exchange.tooLarge());
  res.on('data', onData);
  res.on('error', onResponseError);
  res.on('close', onResponseClose);
  res.on('end', onResponseEnd);
}

function onData(this: Tagged<IncomingMessage>, chunk: Buffer): void {
  const exchange = this[EXCHANGE];
  exchange.size += chunk.length;
  if (exchange.size > exchange.shared.maxBodyBytes) return exchange.abandon(exchange.tooLarge());
  exchange.chunks.push(chunk);
}

function onResponseError(this: Tagged<IncomingMessage>): void {
  const exchange = this[EXCHANGE];
  exchange.abandon(exchange.truncated());
}

function onResponseClose(this: Tagged<IncomingMessage>): void {
  if (!this.complete) onResponseError.call(this);
}

function onResponseEnd(this: Tagged<IncomingMessage>): void {
  const exchange = this[EXCHANGE];
  if (exchange.settled) return;
  const { chunks, size } = exchange;
  const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  exchange.chunks = [];
  const encoding = this.headers['content-encoding'];
  if (encoding === undefined || encoding === 'identity' || raw.length === 0) return exchange.reply(raw.toString('utf8'));
  const limits = { maxOutputLength: exchange.shared.maxBodyBytes };
  const done = (error: Error | null, body: Buffer): void => exchange.inflated(error, body, encoding);
  if (encoding === 'gzip' || encoding === 'x-gzip') zlib.gunzip(raw, limits, done);
  // "deflate" should be zlib-wrapped, but some servers send raw deflate: check the header byte.
  else if (encoding === 'deflate') ((raw[0]! & 0x0f) === 8 ? zlib.inflate : zlib.inflateRaw)(raw, limits, done);
  else exchange.fail(exchange.protocolError(`the response came with content-encoding "${encoding}", which this transport did not ask for and cannot read`, false));
}

const HTTP_TRANSPORT_OPTION_KEYS = Object.keys({
  origin: true, maxSockets: true, timeoutMs: true, agent: true, headers: true, maxBodyBytes: true, now: true,
} satisfies Record<keyof HttpTransportOptions, true>);

/**
 * The HTTP transport: node:http / node:https with a keep-alive pool, gzip and deflate, a cap on
 * the body size, and request signing added to the client's stack when it has a `secretKey`.
 * Built on `http.request`, so nock and other interceptors see its requests.
 *
 * Errors: a socket failure before the response head is a PresenceNetworkError with the system
 * code in `errno`; once the head has arrived, a body that is cut short, too large or cannot be
 * decompressed is a PresenceProtocolError carrying the HTTP status. The call's signal (deadline or
 * caller's abort) destroys the request at once and rejects with the signal's reason.
 */
export function httpTransport(options: HttpTransportOptions = {}): HttpTransport {
  if (typeof options !== 'object' || options === null) fail('options', `pass an options object, e.g. httpTransport({ origin: '${DEFAULT_ORIGIN}' }).`);
  rejectUnknownOptions('httpTransport', options, HTTP_TRANSPORT_OPTION_KEYS, 'httpTransport.');
  const url = parseOrigin(options.origin ?? DEFAULT_ORIGIN);
  const secure = url.protocol === 'https:';
  const maxSockets = checkInteger('maxSockets', options.maxSockets, DEFAULT_MAX_SOCKETS, 10_000);
  const maxBodyBytes = checkInteger('maxBodyBytes', options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 512 * 1024 * 1024);
  const attemptTimeoutMs = options.timeoutMs === undefined ? undefined : checkInteger('timeoutMs', options.timeoutMs, 0, 10 * 60_000);
  if (options.agent !== undefined && !(options.agent instanceof http.Agent)) fail('agent', 'agent must be an http.Agent (or https.Agent for an https origin).');
  const extraHeaders = checkHeaders(options.headers);
  const now = checkNow(options.now);

  const ownAgent = options.agent === undefined;
  const agent: http.Agent = options.agent
    ?? new (secure ? https.Agent : http.Agent)({ keepAlive: true, maxSockets, scheduling: 'lifo', timeout: FREE_SOCKET_TIMEOUT_MS });
  const request = secure ? https.request : http.request;
  const host = url.host;
  // Shared, never mutated: http.request copies headers into each request. Only the one header the
  // transport needs: every extra header costs a validation per request (add your own with `headers`).
  const base = {
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(url.port ? { port: Number(url.port) } : {}),
    agent,
    headers: { ...extraHeaders, 'accept-encoding': 'gzip, deflate' },
  };
  let closed = false;

  function open(exchange: Exchange): void {
    const req = request({ ...base, path: exchange.target });
    exchange.req = req;
    (req as Tagged<ClientRequest>)[EXCHANGE] = exchange;
    req.on('error', onRequestError);
    req.on('response', onResponse);
    req.end();
  }
  const shared: Shared = { host, maxBodyBytes };
  const sign = createSigner(now);

  function send(presenceRequest: PresenceRequest, context: TransportContext): Promise<PresenceResponse> {
    const operation = presenceRequest.operation;
    if (closed) {
      return Promise.reject(new PresenceConfigurationError('transport', `${operation}: the HTTP transport is closed; create a new client and transport.`, { operation }));
    }
    const target = SignedRequest.targetOf(presenceRequest) ?? requestTarget(presenceRequest);
    return new Promise<PresenceResponse>((resolve, reject) => {
      const exchange = new Exchange(shared, presenceRequest, target, resolve, reject);
      // The client's context tells of a cancellation without an AbortSignal (about 3 µs less per
      // request); a context without onCancel (a direct caller, a copied call) is watched by its signal.
      if (context.onCancel) {
        exchange.stopWatching = context.onCancel((reason) => exchange.abandon(reason));
      } else {
        const { signal } = context;
        if (signal.aborted) return exchange.abandon(signal.reason);
        const onAbort = (): void => exchange.abandon(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        exchange.stopWatching = () => signal.removeEventListener('abort', onAbort);
      }
      // Already over (onCancel answers at once when it is): nothing is sent.
      if (exchange.settled) return;
      open(exchange);
      // A subscribe long-poll is held by the service for minutes by design: only its own deadline applies.
      if (attemptTimeoutMs !== undefined && operation !== 'subscribe' && context.deadline - performance.now() > attemptTimeoutMs) {
        exchange.timer = setTimeout(onAttemptTimeout, attemptTimeoutMs, exchange, attemptTimeoutMs);
      }
    });
  }

  return {
    name: 'http',
    origin: url.origin,
    agent,
    get closed() {
      return closed;
    },
    send,
    apply(stack: Stack) {
      if (stack.context.config.secretKey && !stack.has(signingOptions.name)) stack.add(sign, signingOptions);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!ownAgent) return;
      // Wait until every socket has really closed (the agent forgets each one on its 'close'),
      // so nothing of this transport outlives close().
      const closing: Promise<unknown>[] = [];
      for (const pool of [agent.sockets, agent.freeSockets]) {
        for (const list of Object.values(pool)) {
          // Still listed means its 'close' has not been emitted yet, even if it is already destroyed.
          for (const socket of list ?? []) closing.push(once(socket, 'close').catch(() => undefined));
        }
      }
      agent.destroy();
      await Promise.all(closing);
    },
  };
}

