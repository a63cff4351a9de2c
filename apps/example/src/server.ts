import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { JsonValue, PresenceClient } from '@presence/core';
import type { Registry, RegistryContentType } from 'prom-client';
import { checkRoom, checkState, checkUser, heartbeatParam, roomsParam, stateParam } from './api-input.js';
import { BadRequest, toHttpError } from './http-errors.js';
import type { LiveEvents } from './live-events.js';
import { assets, renderPage } from './page.js';

/** One readiness condition: resolves to undefined when met, or to a short reason when not. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<string | undefined>;

export interface ServiceDeps {
  readonly presence: PresenceClient<JsonValue>;
  /** Served at /metrics in the registry's own format (Prometheus text or OpenMetrics), with its content type. */
  readonly registry: Registry<RegistryContentType>;
  /** The rooms the page shows. */
  readonly rooms: readonly string[];
  /** The page's live feed. */
  readonly live: LiveEvents;
  /** The replica's part in the roster (`solo`, `leader`, `mirror`), shown by `/readyz`. */
  readonly rosterRole?: () => string;
  /** What `/readyz` checks besides the live roster (e.g. Redis answers). */
  readonly readiness?: Readonly<Record<string, ReadinessCheck>>;
  /** Called for failures that are the service's own fault (500s). */
  readonly onInternalError?: (error: unknown) => void;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type Params = Record<string, string>;
interface Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Params;
  readonly url: URL;
  /** Aborts when the client hangs up. */
  readonly signal: AbortSignal;
}
/** Returns a JSON body to send with 200, or undefined when it answered by itself. */
type Handler = (request: Request) => unknown;
interface Route {
  readonly pattern: RegExp;
  readonly methods: Partial<Record<Method, Handler>>;
}

const MAX_BODY_BYTES = 64 * 1024;
const READY_CHECK_MS = 2000;

function route(path: string, methods: Route['methods']): Route {
  const source = path.replace(/:(\w+)/g, (_, name: string) => `(?<${name}>[^/]+)`);
  return { pattern: new RegExp(`^${source}/?$`), methods };
}

/** The methods a route answers, as an `Allow` header: HEAD wherever GET is. */
function allowed(route: Route): string {
  const methods = Object.keys(route.methods);
  if (methods.includes('GET')) methods.splice(methods.indexOf('GET') + 1, 0, 'HEAD');
  return methods.join(', ');
}

function decodeParams(groups: Record<string, string> | undefined): Params {
  const params: Params = {};
  for (const [name, raw] of Object.entries(groups ?? {})) {
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      throw new BadRequest(400, 'validation_error', `The ${name} in the path is not valid percent-encoding.`, name);
    }
    params[name] = name === 'room' ? checkRoom(value) : name === 'user' ? checkUser(value) : value;
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(413, 'payload_too_large', `The body is over ${MAX_BODY_BYTES} bytes; a presence state must stay under 16 KiB.`, 'state');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readState(req: IncomingMessage): Promise<{ [key: string]: JsonValue }> {
  const text = await readBody(req);
  if (text.trim() === '') throw new BadRequest(400, 'validation_error', 'Send the state as a JSON object in the body, such as {"mood":"curious"}.', 'state');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequest(400, 'validation_error', 'The body is not valid JSON; send the state as a JSON object such as {"mood":"curious"}.', 'state');
  }
  return checkState(value);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** A check that answers within its deadline, whatever the check itself does. */
async function runCheck(check: ReadinessCheck): Promise<string | undefined> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(`no answer within ${READY_CHECK_MS} ms`);
    }, READY_CHECK_MS);
  });
  try {
    // The reason is ours, never the library's message (it may name options or hosts).
    return await Promise.race([check(controller.signal).catch(() => 'not reachable'), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The who's-online service: the page, its live event stream, the JSON API, health and metrics. */
export function createService({ presence, registry, rooms, live, rosterRole, readiness = {}, onInternalError }: ServiceDeps): Server {
  /** The page's form without JavaScript: join (heartbeat), set a status, or leave; then the page again, saying what happened. */
  const submitForm = async ({ req, res, signal }: Request): Promise<undefined> => {
    let status = 200;
    let notice: string;
    try {
      const form = new URLSearchParams(await readBody(req));
      const user = checkUser((form.get('user') ?? '').trim());
      const room = checkRoom(form.get('room') ?? '');
      const mood = (form.get('mood') ?? '').trim();
      const state = mood ? checkState({ mood }) : undefined;
      const action = form.get('action') ?? 'join';
      if (action === 'leave') {
        await presence.leave({ channels: [room], userId: user }, { signal });
        notice = `${user} left ${room}.`;
      } else if (action === 'join') {
        await presence.heartbeat({ channels: [room], userId: user, heartbeat: 300, ...(state ? { state: { [room]: state } } : {}) }, { signal });
        notice = `${user} joined ${room} for 5 minutes.`;
      } else if (action === 'state') {
        await presence.setPresenceState({ channels: [room], userId: user, state: state ?? {} }, { signal });
        notice = `${user}'s status in ${room} is set.`;
      } else {
        throw new BadRequest(400, 'validation_error', 'action must be join, state or leave.', 'action');
      }
    } catch (error) {
      const answer = toHttpError(error);
      if (answer.status === 500) throw error;
      status = answer.status;
      notice = answer.body.error.message;
    }
    sendText(res, status, 'text/html; charset=utf-8', renderPage({ rooms, snapshot: live.snapshot(), notice }), { 'cache-control': 'no-store' });
    return undefined;
  };

  const routes: Route[] = [
    route('/', {
      GET: ({ res }) => sendText(res, 200, 'text/html; charset=utf-8', renderPage({ rooms, snapshot: live.snapshot() }), { 'cache-control': 'no-store' }),
      POST: submitForm,
    }),
    route('/events', {
      GET: ({ req, res, url }) => {
        const lastEventId = req.headers['last-event-id'];
        live.serve(req, res, (Array.isArray(lastEventId) ? lastEventId[0] : lastEventId) ?? url.searchParams.get('since') ?? undefined);
      },
    }),
    ...Object.entries(assets).map(([path, asset]) =>
      route(path.replace(/\./g, '\\.'), { GET: ({ res }) => sendText(res, 200, asset.type, asset.body, { 'cache-control': 'no-cache' }) }),
    ),
    route('/healthz', { GET: () => ({ status: 'ok' }) }),
    route('/readyz', {
      GET: async ({ res }) => {
        const failing: Record<string, string> = {};
        if (!live.isReady()) failing.roster = 'not seeded yet';
        const results = await Promise.all(Object.entries(readiness).map(async ([name, check]) => [name, await runCheck(check)] as const));
        for (const [name, reason] of results) if (reason !== undefined) failing[name] = reason;
        const ready = Object.keys(failing).length === 0;
        const role = rosterRole ? { roster: rosterRole() } : {};
        send(res, ready ? 200 : 503, ready ? { status: 'ready', ...role } : { status: 'not_ready', failing, ...role });
      },
    }),
    route('/metrics', {
      GET: async ({ res }) => sendText(res, 200, registry.contentType, await registry.metrics(), { 'cache-control': 'no-store' }),
    }),
    route('/rooms/:room/presence', {
      GET: async ({ params, url, signal }) => {
        const includeState = stateParam(url);
        const result = await presence.hereNow({ channels: [params.room!], includeState }, { signal });
        const channel = result.channels[0]!;
        return { room: channel.name, occupancy: channel.occupancy, occupants: channel.occupants };
      },
    }),
    route('/users/:user/rooms', {
      GET: async ({ params, signal }) => {
        const { channels } = await presence.whereNow({ userId: params.user! }, { signal });
        return { user: params.user, rooms: channels };
      },
    }),
    route('/users/:user/state', {
      GET: async ({ params, url, signal }) => {
        const { state } = await presence.getPresenceState({ channels: roomsParam(url), userId: params.user! }, { signal });
        return { user: params.user, states: Object.fromEntries(state.map((s) => [s.channelName, s.state ?? null])) };
      },
    }),
    route('/users/:user/rooms/:room/state', {
      PUT: async ({ params, req, signal }) => {
        const state = await readState(req);
        const result = await presence.setPresenceState({ channels: [params.room!], userId: params.user!, state }, { signal });
        return { user: params.user, room: params.room, state: result.state };
      },
    }),
    route('/users/:user/rooms/:room/heartbeat', {
      POST: async ({ params, url, signal }) => {
        const heartbeat = heartbeatParam(url);
        await presence.heartbeat({ channels: [params.room!], userId: params.user!, ...(heartbeat === undefined ? {} : { heartbeat }) }, { signal });
        return { user: params.user, room: params.room, present: true };
      },
    }),
    route('/users/:user/rooms/:room', {
      DELETE: async ({ params, signal }) => {
        await presence.leave({ channels: [params.room!], userId: params.user! }, { signal });
        return { user: params.user, room: params.room, present: false };
      },
    }),
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let match: RegExpExecArray | null = null;
    const found = routes.find((r) => (match = r.pattern.exec(url.pathname)) !== null);
    if (!found) throw new BadRequest(404, 'not_found', `There is no ${url.pathname}; the page is at /, and the README lists the API.`);
    const method = (req.method === 'HEAD' ? 'GET' : req.method) as Method;
    const handler = Object.hasOwn(found.methods, method) ? found.methods[method] : undefined;
    if (!handler) {
      const allow = allowed(found);
      throw new BadRequest(405, 'method_not_allowed', `${url.pathname} answers ${allow}; not ${req.method}.`, undefined, { allow });
    }
    // A client that hangs up cancels its presence call.
    const controller = new AbortController();
    res.once('close', () => res.writableFinished || controller.abort());
    const body = await handler({ req, res, url, signal: controller.signal, params: decodeParams((match as RegExpExecArray | null)?.groups) });
    if (body !== undefined) send(res, 200, body);
  }

  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const answer = toHttpError(error);
      if (answer.status === 500) onInternalError?.(error);
      if (!res.headersSent && !res.destroyed) send(res, answer.status, answer.body, answer.headers);
      else res.destroy();
    });
  });
}
