import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { errorBodies, notFoundBody } from './error-bodies.js';
import { FaultInjector, FaultRuleError, type FaultAction, type FaultRule } from './fault-injector.js';
import { handleChannelGroup } from './handle-channel-group.js';
import { handlePresence, type Reply } from './handle-presence.js';
import {
  operationNames,
  operationOf,
  parseRequest,
  RequestParseError,
  splitList,
  type OperationName,
  type ParsedRequest,
} from './parse-request.js';
import { PresenceEventLog } from './presence-event-log.js';
import { PresenceStore, type PresenceStoreCounts } from './presence-store.js';
import { verifySignature } from './sign-request.js';
import { SubscribeHub, type LongPollCounts, type SubscribeStats } from './subscribe-hub.js';
import { TimetokenClock } from './timetoken-clock.js';

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Presence timeout used when a heartbeat has no usable `heartbeat` value. Default 300 s. */
  presenceTimeoutSec?: number;
  /** When set, every request except `/time/0`, `OPTIONS` and the admin API must carry a valid v2 signature. */
  secretKey?: string;
  /** Publish key in the string to sign. Unset means the literal `undefined`, as the JS SDK interpolates (notes §2). */
  publishKey?: string;
  /** Injectable clock in epoch ms; default `Date.now`. */
  now?: () => number;
  /** Period of the timeout sweep timer (unref'd). Default 1000 ms; 0 disables it (call `sweep()`). */
  sweepIntervalMs?: number;
  /** Here-now response cache lifetime; 0 = off (default), 3000 = PubNub-like (notes §3.1 "Caching"). */
  hereNowCacheMs?: number;
  /** Delay added before every non-admin answer. Default 0. */
  latencyMs?: number;
  /** Initial fault rules. */
  faults?: FaultRule[];
  /** Longest accepted request target; longer gets the 414 body. Default 32 KiB (notes §8). */
  maxUrlLength?: number;
  /** Default true; false answers global here-now with the 402 body (notes §5). */
  globalHereNow?: boolean;
  /** Random source for probabilistic faults (0 <= x < 1); default `Math.random`. */
  random?: () => number;
  /**
   * Told of every request the emulator failed to handle (its own bug), which it answers with 500.
   * `path` has no query (it may hold an auth key or a signature). Default: one line on stderr.
   */
  onError?: (error: unknown, request: { method: string; path: string }) => void;
  /** How long a subscribe long-poll is held without events before it is answered empty. Default 280 000 ms. */
  subscribeHoldMs?: number;
  /** Above this occupancy a channel's per-user events give way to `interval` events (PubNub's "Announce Max"). Default 20. */
  announceMax?: number;
  /** Period of `interval` events for channels in interval mode. Default 10 s. */
  intervalSec?: number;
  /** Interval delta lists larger than this (bytes of JSON) become `here_now_refresh: true`. Default 30 000. */
  intervalDeltaMaxBytes?: number;
  /** Presence events kept per channel for catch-up by timetoken. Default 100. */
  catchUpBufferSize?: number;
  /** Presence events older than this are dropped from the catch-up buffer. Default 600 000 ms (10 min). */
  catchUpMaxAgeMs?: number;
}

const OPTION_KEYS = Object.keys({
  port: true, host: true, presenceTimeoutSec: true, secretKey: true, publishKey: true, now: true, sweepIntervalMs: true,
  hereNowCacheMs: true, latencyMs: true, faults: true, maxUrlLength: true, globalHereNow: true, random: true, onError: true,
  subscribeHoldMs: true, announceMax: true, intervalSec: true, intervalDeltaMaxBytes: true, catchUpBufferSize: true, catchUpMaxAgeMs: true,
} satisfies Record<keyof EmulatorOptions, true>);

/** Writes what went wrong, never the query string (auth keys, signatures). */
function logInternalError(error: unknown, request: { method: string; path: string }): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`presence-emulator: internal error answering ${request.method} ${request.path} (sent 500): ${detail}\n`);
}

export interface EmulatorStats {
  requests: {
    total: number;
    /** Global here-now counts as `hereNow`. Admin API calls are not counted. */
    byOperation: Record<OperationName, number>;
  };
  /** Answers sent, keyed by HTTP status (faults included; resets and hangs are not answers). */
  responsesByStatus: Record<string, number>;
  faultsInjected: number;
  hereNowCacheHits: number;
  signatureFailures: number;
  /** Requests the emulator failed to handle (its own bugs), answered with 500 and passed to `onError`. */
  internalErrors: number;
  /** Users removed by the timeout sweep since start or the last reset. */
  timeouts: number;
  presence: PresenceStoreCounts;
  subscribe: SubscribeStats & {
    /** Presence events appended to `-pnpres` channels (per-user, interval and admin-published). */
    eventsPublished: number;
    /** Presence events currently held in the catch-up buffers. */
    eventsBuffered: number;
  };
}

/** An arbitrary presence event for `publishPresenceEvent` / `POST /__emulator/presence-events`. */
export interface PresenceEventInput {
  subscribeKey: string;
  /** The real channel (`room`); a trailing `-pnpres` is accepted and ignored. */
  channel: string;
  /** The envelope's `d`, sent verbatim (e.g. `{ action: 'join', uuid, timestamp, occupancy }`). */
  event: Record<string, unknown>;
  /** Optional envelope `u` (server meta); left out when not given. */
  meta?: Record<string, unknown>;
}

export interface TickResult {
  /** Users removed by the timeout sweep (each one a `timeout` event or an interval delta). */
  timedOut: number;
  /** `interval` events sent. */
  intervals: number;
}

export interface Emulator {
  /** e.g. `http://127.0.0.1:PORT`. */
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
  /** Forget all presence, state, groups, counters, cached answers, faults and runtime latency. */
  reset(): void;
  stats(): EmulatorStats;
  setFaults(rules: FaultRule[]): void;
  setLatency(ms: number): void;
  /** Run one timeout sweep now (for tests with a fake clock); returns how many users timed out. */
  sweep(): number;
  /** Run the clock-driven work now: the timeout sweep, due `interval` events and catch-up buffer ageing. */
  tick(): TickResult;
  /** Subscribe long-polls held open right now, per channel and channel group. */
  longPolls(): LongPollCounts;
  /** Append an arbitrary presence event to `<channel>-pnpres`; returns its 17-digit timetoken. */
  publishPresenceEvent(input: PresenceEventInput): string;
}

const BASE_HEADERS = {
  // The JS SDK refuses a 2xx without json/javascript in Content-Type, and loses error bodies without one (notes §1.5).
  'Content-Type': 'text/javascript; charset="UTF-8"',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'OPTIONS, GET, POST',
  Server: 'Pubnub Presence',
} as const;

const MAX_ADMIN_BODY = 1024 * 1024;

/** Query params that identify the caller, not the question: left out of the here-now cache key. */
const UNCACHED_PARAMS = new Set(['uuid', 'requestid', 'pnsdk', 'auth', 'timestamp', 'signature', 'instanceid']);

function emptyCounts(): Record<OperationName, number> {
  const counts = {} as Record<OperationName, number>;
  for (const name of operationNames) counts[name] = 0;
  return counts;
}

function originFor(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

/** setTimeout's limit: a longer delay fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

function checkOption(name: string, value: number | undefined, min: number, integer = false, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new RangeError(
      `createEmulator: ${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${String(value)}`,
    );
  }
}

export async function createEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const unknown = Object.keys(options).find((key) => !OPTION_KEYS.includes(key));
  if (unknown !== undefined) throw new TypeError(`createEmulator: unknown option "${unknown}"; the options are ${OPTION_KEYS.join(', ')}.`);
  const onError = options.onError ?? logInternalError;
  checkOption('subscribeHoldMs', options.subscribeHoldMs, 1, false, MAX_TIMER_MS);
  checkOption('announceMax', options.announceMax, 0, true);
  checkOption('intervalSec', options.intervalSec, 0.001);
  checkOption('intervalDeltaMaxBytes', options.intervalDeltaMaxBytes, 0, true);
  checkOption('catchUpBufferSize', options.catchUpBufferSize, 0, true);
  checkOption('catchUpMaxAgeMs', options.catchUpMaxAgeMs, 0);
  const now = options.now ?? Date.now;
  const host = options.host ?? '127.0.0.1';
  const maxUrlLength = options.maxUrlLength ?? 32 * 1024;
  const hereNowCacheMs = options.hereNowCacheMs ?? 0;
  const globalHereNow = options.globalHereNow ?? true;
  const store = new PresenceStore(now, options.presenceTimeoutSec ?? 300);
  const faults = new FaultInjector(options.random ?? Math.random);
  if (options.faults) faults.set(options.faults);
  let latencyMs = options.latencyMs ?? 0;
  const timetokens = new TimetokenClock(now);
  const eventLog = new PresenceEventLog(
    now,
    timetokens,
    {
      announceMax: options.announceMax ?? 20,
      intervalSec: options.intervalSec ?? 10,
      intervalDeltaMaxBytes: options.intervalDeltaMaxBytes ?? 30_000,
      catchUpBufferSize: options.catchUpBufferSize ?? 100,
      catchUpMaxAgeMs: options.catchUpMaxAgeMs ?? 600_000,
    },
    (subKey, channel) => store.channel(subKey, channel)?.occupancy ?? 0,
    (subKey, channel) => hub.wake(subKey, channel),
  );
  const hub = new SubscribeHub(store, eventLog, timetokens, { holdMs: options.subscribeHoldMs ?? 280_000 });
  store.onChange = (change) => {
    eventLog.record(change);
    if (change.action === 'leave' || change.action === 'timeout') hub.forget(change.subKey, change.uuid, change.channel);
  };
  const openSubscribes = new Set<ServerResponse>();

  let total = 0;
  let byOperation = emptyCounts();
  let responsesByStatus: Record<string, number> = {};
  let faultsInjected = 0;
  let hereNowCacheHits = 0;
  let signatureFailures = 0;
  let internalErrors = 0;
  const hereNowCache = new Map<string, { expiresAt: number; reply: Reply }>();
  const pendingTimers = new Set<NodeJS.Timeout>();
  let closed = false;

  const stats = (): EmulatorStats => ({
    requests: { total, byOperation: { ...byOperation } },
    responsesByStatus: { ...responsesByStatus },
    faultsInjected,
    hereNowCacheHits,
    signatureFailures,
    internalErrors,
    timeouts: store.timeouts,
    presence: store.counts(),
    subscribe: { ...hub.subscribeStats(), eventsPublished: eventLog.published, eventsBuffered: eventLog.buffered },
  });

  const tick = (): TickResult => ({ timedOut: store.sweep(), intervals: eventLog.tick() });

  const publishPresenceEvent = (input: PresenceEventInput): string => {
    const problem = presenceEventProblem(input);
    if (problem) throw new TypeError(`publishPresenceEvent: ${problem}`);
    const channel = input.channel.endsWith('-pnpres') ? input.channel.slice(0, -'-pnpres'.length) : input.channel;
    return eventLog.publish(input.subscribeKey, channel, input.event, input.meta).toString();
  };

  const reset = (): void => {
    // Held polls are answered first (empty, fresh cursor): what they waited for no longer exists.
    hub.reset();
    eventLog.reset();
    store.reset();
    faults.set([]);
    latencyMs = 0;
    total = 0;
    byOperation = emptyCounts();
    responsesByStatus = {};
    faultsInjected = 0;
    hereNowCacheHits = 0;
    signatureFailures = 0;
    internalErrors = 0;
    hereNowCache.clear();
  };

  const send = (res: ServerResponse, reply: Reply, count = true): void => {
    if (res.destroyed || res.headersSent) return;
    if (count) responsesByStatus[reply.status] = (responsesByStatus[reply.status] ?? 0) + 1;
    res.writeHead(reply.status, {
      ...BASE_HEADERS,
      'Content-Length': Buffer.byteLength(reply.body),
      ...reply.headers,
    });
    res.end(reply.body);
  };

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        resolve();
      }, ms);
      pendingTimers.add(timer);
    });

  const readBody = (req: IncomingMessage): Promise<string | undefined> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ADMIN_BODY) {
          resolve(undefined);
          req.removeAllListeners('data');
          req.resume();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const adminJson = (status: number, body: unknown): Reply => ({ status, body: JSON.stringify(body) });

  const handleAdmin = async (req: IncomingMessage, action: string): Promise<Reply> => {
    const method = req.method ?? 'GET';
    const readJson = async (): Promise<{ value: unknown } | Reply> => {
      const text = await readBody(req);
      if (text === undefined) return { status: 413, body: errorBodies.entityTooLarge };
      if (text.trim() === '') return { value: undefined };
      try {
        return { value: JSON.parse(text) as unknown };
      } catch {
        return { status: 400, body: errorBodies.invalidJson };
      }
    };
    const path = action.split('?')[0];
    if (path === 'stats' && method === 'GET') return adminJson(200, stats());
    if (path === 'reset' && method === 'POST') {
      reset();
      return adminJson(200, { ok: true });
    }
    if (path === 'sweep' && method === 'POST') return adminJson(200, { ok: true, timedOut: store.sweep() });
    if (path === 'tick' && method === 'POST') return adminJson(200, { ok: true, ...tick() });
    if (path === 'long-polls' && method === 'GET') return adminJson(200, hub.longPolls());
    if (path === 'presence-events' && method === 'POST') {
      const parsed = await readJson();
      if (!('value' in parsed)) return parsed;
      const problem = presenceEventProblem(parsed.value);
      if (problem) return adminJson(400, { error: true, message: problem });
      return adminJson(200, { ok: true, timetoken: publishPresenceEvent(parsed.value as PresenceEventInput) });
    }
    if (path === 'faults' && method === 'GET') return adminJson(200, { rules: faults.rules() });
    if (path === 'faults' && method === 'DELETE') {
      faults.set([]);
      return adminJson(200, { ok: true });
    }
    if (path === 'faults' && method === 'POST') {
      const parsed = await readJson();
      if (!('value' in parsed)) return parsed;
      // Accept a bare array or `{ "rules": [...] }`; an empty body clears the rules.
      const value: unknown = parsed.value;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- it is needed: `value` is unknown (a false positive of the rule)
      const rules = value === undefined ? [] : Array.isArray(value) ? value : (value as { rules?: unknown } | null)?.rules;
      try {
        faults.set(rules as FaultRule[]);
      } catch (error) {
        if (error instanceof FaultRuleError) return adminJson(400, { error: true, message: error.message });
        throw error;
      }
      return adminJson(200, { ok: true, rules: faults.rules() });
    }
    if (path === 'latency' && method === 'POST') {
      const parsed = await readJson();
      if (!('value' in parsed)) return parsed;
      const ms = (parsed.value as { ms?: unknown } | null)?.ms;
      if (typeof ms !== 'number' || !(ms >= 0)) return adminJson(400, { error: true, message: 'body must be {"ms": <number >= 0>}' });
      latencyMs = ms;
      return adminJson(200, { ok: true, ms });
    }
    return { status: 404, body: notFoundBody(`/__emulator/${action}`) };
  };

  const checkSignature = (req: IncomingMessage, parsed: ParsedRequest): boolean => {
    if (options.secretKey === undefined) return true;
    return verifySignature(
      {
        method: req.method ?? 'GET',
        publishKey: options.publishKey,
        path: parsed.rawPath,
        query: parsed.query,
        secretKey: options.secretKey,
      },
      parsed.params.get('signature'),
    );
  };

  const cacheKey = (parsed: ParsedRequest): string => {
    const kept = parsed.query.filter(([key]) => !UNCACHED_PARAMS.has(key)).map(([k, v]) => `${k}=${v}`);
    return `${parsed.rawPath}?${kept.sort().join('&')}`;
  };

  const serve = (req: IncomingMessage, parsed: ParsedRequest): Reply => {
    const { route } = parsed;
    // Subscribe is answered by the hub before we get here.
    if (req.method !== 'GET' || route.kind === 'notFound' || route.kind === 'admin' || route.kind === 'subscribe') {
      return { status: 404, body: notFoundBody(parsed.rawPath) };
    }
    if (route.kind === 'time') {
      // A timetoken is 10^-7 s; BigInt keeps all 17 digits exact.
      return { status: 200, body: `[${(BigInt(Math.floor(now())) * 10000n).toString()}]` };
    }
    if (!checkSignature(req, parsed)) {
      signatureFailures += 1;
      return { status: 403, body: errorBodies.invalidSignature };
    }
    if (route.kind === 'channelGroup') {
      // Group changes alter here-now answers, so cached ones must not outlive them.
      hereNowCache.clear();
      return handleChannelGroup(store, route, parsed.params);
    }
    if (route.kind === 'hereNow' && hereNowCacheMs > 0) {
      const key = cacheKey(parsed);
      const hit = hereNowCache.get(key);
      const t = now();
      if (hit && t < hit.expiresAt) {
        hereNowCacheHits += 1;
        return hit.reply;
      }
      const reply = handlePresence(store, route, parsed.params, { globalHereNow });
      if (reply.status === 200) {
        // A crude bound: the cache only ever holds a few seconds of distinct questions.
        if (hereNowCache.size >= 10_000) hereNowCache.clear();
        hereNowCache.set(key, { expiresAt: t + hereNowCacheMs, reply });
      }
      return reply;
    }
    return handlePresence(store, route, parsed.params, { globalHereNow });
  };

  const applyFault = (res: ServerResponse, req: IncomingMessage, action: FaultAction): void => {
    faultsInjected += 1;
    if (action.kind === 'reply') send(res, action.reply);
    else if (action.kind === 'reset') req.socket.destroy();
    // 'hang': answer nothing; close() destroys the socket via closeAllConnections().
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    if (url.length > maxUrlLength) {
      total += 1;
      byOperation.other += 1;
      send(res, { status: 414, body: errorBodies.uriTooLong });
      return;
    }
    if (req.method === 'OPTIONS') {
      // CORS preflight (browsers); Node clients never send one (notes §1.4).
      send(res, {
        status: 200,
        body: '',
        headers: {
          'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
          'Access-Control-Max-Age': '86400',
        },
      }, false);
      return;
    }
    let parsed: ParsedRequest;
    try {
      parsed = parseRequest(url);
    } catch (error) {
      if (!(error instanceof RequestParseError)) throw error;
      total += 1;
      byOperation.other += 1;
      send(res, { status: 400, body: errorBodies.couldNotParse });
      return;
    }
    if (parsed.route.kind === 'admin') {
      send(res, await handleAdmin(req, parsed.route.action), false);
      return;
    }
    const operation = operationOf(parsed.route);
    total += 1;
    byOperation[operation] += 1;
    if (latencyMs > 0) {
      await delay(latencyMs);
      if (closed || res.destroyed) return;
    }
    const route = parsed.route;
    const channels = 'channels' in route && route.channels ? route.channels : [];
    const groups = splitList(parsed.params.get('channel-group'));
    const group = route.kind === 'channelGroup' && route.group !== null ? [route.group] : [];
    const fault = faults.match({ operation, names: [...channels, ...groups, ...group], channels, groups });
    if (fault) {
      applyFault(res, req, fault);
      return;
    }
    if (route.kind === 'subscribe') {
      if (!checkSignature(req, parsed)) {
        signatureFailures += 1;
        send(res, { status: 403, body: errorBodies.invalidSignature });
        return;
      }
      openSubscribes.add(res);
      res.once('close', () => openSubscribes.delete(res));
      hub.handle(route, parsed.params, {
        send: (reply) => send(res, reply),
        onClose: (listener) => res.once('close', listener),
      });
      return;
    }
    send(res, serve(req, parsed));
  };

  const server = createServer(
    // Room for a max-length request line plus ordinary headers; longer targets get our 414 body.
    { maxHeaderSize: maxUrlLength + 16 * 1024 },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        // Never let one request take the server down: answer a generic 500 if we still can, and say why.
        internalErrors += 1;
        try {
          onError(error, { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]! });
        } catch {
          // A throwing error handler must not stop the answer.
        }
        send(res, { status: 500, body: errorBodies.internalError });
      });
    },
  );
  // Clients (the SDK's undici, our HTTP client) reuse sockets; keep idle ones longer than their pools do.
  server.keepAliveTimeout = 10_000;
  server.headersTimeout = 15_000;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // Requests Node's parser rejects (over-long heads, garbage) still get a JSON answer, then the socket closes.
    // A peer that reset the connection sent no request worth answering or counting.
    if (error.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    const overflow = error.code === 'HPE_HEADER_OVERFLOW';
    const body = overflow ? errorBodies.uriTooLong : errorBodies.couldNotParse;
    const status = overflow ? 414 : 400;
    total += 1;
    byOperation.other += 1;
    responsesByStatus[status] = (responsesByStatus[status] ?? 0) + 1;
    socket.end(
      `HTTP/1.1 ${status} ${overflow ? 'URI Too Long' : 'Bad Request'}\r\n` +
        `Content-Type: ${BASE_HEADERS['Content-Type']}\r\nAccess-Control-Allow-Origin: *\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);

  const sweepIntervalMs = options.sweepIntervalMs ?? 1000;
  const sweepTimer = sweepIntervalMs > 0 ? setInterval(tick, sweepIntervalMs) : undefined;
  // The sweep must never keep a test runner or CLI alive on its own.
  sweepTimer?.unref();

  return {
    origin: originFor(host, port),
    port,
    stats,
    reset,
    setFaults: (rules) => faults.set(rules),
    setLatency: (ms) => {
      if (!(ms >= 0)) throw new RangeError('latency must be >= 0');
      latencyMs = ms;
    },
    sweep: () => store.sweep(),
    tick,
    longPolls: () => hub.longPolls(),
    publishPresenceEvent,
    close: async () => {
      if (closed) return;
      closed = true;
      if (sweepTimer) clearInterval(sweepTimer);
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      hub.close();
      // Let the empty answers to held long-polls reach their sockets before those are destroyed (bounded wait).
      const flushed = [...openSubscribes].map((res) => new Promise<void>((resolve) => {
        if (res.writableFinished || res.destroyed) resolve();
        else res.once('close', () => resolve()).once('finish', () => resolve());
      }));
      await Promise.race([Promise.all(flushed), new Promise<void>((resolve) => setTimeout(resolve, 500).unref())]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive sockets, hung requests and delayed answers would otherwise hold close() open.
        server.closeAllConnections();
      });
    },
  };
}

/** Why an admin presence event is unusable, or undefined when it is fine. */
function presenceEventProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) {
    return 'body must be {"subscribeKey": "...", "channel": "...", "event": {...}, "meta"?: {...}}';
  }
  const input = value as Record<string, unknown>;
  if (typeof input.subscribeKey !== 'string' || input.subscribeKey === '') return 'subscribeKey must be a non-empty string';
  if (typeof input.channel !== 'string' || input.channel === '' || input.channel === '-pnpres') {
    return 'channel must be a non-empty channel name';
  }
  const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(input.event)) return 'event must be a JSON object (the envelope\'s "d", e.g. {"action":"join","uuid":"u1","timestamp":1700000000,"occupancy":1})';
  if (input.meta !== undefined && !isObject(input.meta)) return 'meta must be a JSON object when given';
  return undefined;
}
