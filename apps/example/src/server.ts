import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { JsonValue, PresenceClient } from '@presence/core';
import type { Registry, RegistryContentType } from 'prom-client';
import { BadRequest, toHttpError } from './http-errors.js';

export interface ServiceDeps {
  readonly presence: PresenceClient<JsonValue>;
  /** Served at /metrics in the registry's own format (Prometheus text or OpenMetrics), with its content type. */
  readonly registry: Registry<RegistryContentType>;
  /** Called for failures that are the service's own fault (500s). */
  readonly onInternalError?: (error: unknown) => void;
}

type Params = Record<string, string>;
type Route = {
  method: string;
  pattern: RegExp;
  handle: (params: Params, url: URL, req: IncomingMessage, signal: AbortSignal) => Promise<unknown>;
};

const MAX_BODY_BYTES = 64 * 1024;

function segment(name: string): string {
  return `(?<${name}>[^/]+)`;
}

function route(method: string, path: string, handle: Route['handle']): Route {
  const source = path.replace(/:(\w+)/g, (_, name: string) => segment(name));
  return { method, pattern: new RegExp(`^${source}/?$`), handle };
}

function decodeParams(groups: Record<string, string> | undefined): Params {
  const params: Params = {};
  for (const [name, raw] of Object.entries(groups ?? {})) {
    try {
      params[name] = decodeURIComponent(raw);
    } catch {
      throw new BadRequest(400, 'validation_error', `The ${name} in the path is not valid percent-encoding.`, name);
    }
  }
  return params;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(400, 'validation_error', `The body is over ${MAX_BODY_BYTES} bytes; a presence state must stay under 32 KiB.`, 'state');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new BadRequest(400, 'validation_error', 'Send the state as a JSON object in the body.', 'state');
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest(400, 'validation_error', 'The body is not valid JSON; send the state as a JSON object.', 'state');
  }
}

function roomsParam(url: URL): string[] {
  const rooms = url.searchParams.get('rooms');
  if (!rooms) throw new BadRequest(400, 'validation_error', 'Give the rooms to read as ?rooms=a,b.', 'rooms');
  return rooms.split(',');
}

function heartbeatSeconds(url: URL): number | undefined {
  const raw = url.searchParams.get('heartbeat');
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw)) throw new BadRequest(400, 'validation_error', 'heartbeat must be a whole number of seconds.', 'heartbeat');
  return Number(raw);
}

/** The who's-online HTTP API over one presence client. */
export function createService({ presence, registry, onInternalError }: ServiceDeps): Server {
  const routes: Route[] = [
    route('GET', '/rooms/:room/presence', async ({ room }, url, _req, signal) => {
      const includeState = url.searchParams.get('state') === '1' || url.searchParams.get('state') === 'true';
      const result = await presence.hereNow({ channels: [room!], includeState }, { signal });
      const channel = result.channels[0]!;
      return { room: channel.name, occupancy: channel.occupancy, occupants: channel.occupants };
    }),
    route('GET', '/users/:user/rooms', async ({ user }, _url, _req, signal) => {
      const { channels } = await presence.whereNow({ userId: user! }, { signal });
      return { user, rooms: channels };
    }),
    route('GET', '/users/:user/state', async ({ user }, url, _req, signal) => {
      const { state } = await presence.getPresenceState({ channels: roomsParam(url), userId: user! }, { signal });
      return { user, states: Object.fromEntries(state.map((s) => [s.channelName, s.state ?? null])) };
    }),
    route('PUT', '/users/:user/rooms/:room/state', async ({ user, room }, _url, req, signal) => {
      const state = (await readJson(req)) as JsonValue;
      const result = await presence.setPresenceState({ channels: [room!], userId: user!, state }, { signal });
      return { user, room, state: result.state };
    }),
    route('POST', '/users/:user/rooms/:room/heartbeat', async ({ user, room }, url, _req, signal) => {
      const heartbeat = heartbeatSeconds(url);
      await presence.heartbeat({ channels: [room!], userId: user!, ...(heartbeat === undefined ? {} : { heartbeat }) }, { signal });
      return { user, room, present: true };
    }),
    route('DELETE', '/users/:user/rooms/:room', async ({ user, room }, _url, _req, signal) => {
      await presence.leave({ channels: [room!], userId: user! }, { signal });
      return { user, room, present: false };
    }),
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
    if (req.method === 'GET' && url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
      return;
    }
    const matches = routes.map((r) => ({ r, m: r.pattern.exec(url.pathname) })).filter((x) => x.m);
    const match = matches.find((x) => x.r.method === req.method);
    if (!match) {
      if (matches.length) throw new BadRequest(405, 'method_not_allowed', `Use ${matches.map((x) => x.r.method).join(' or ')} on ${url.pathname}.`);
      throw new BadRequest(404, 'not_found', `No route ${req.method} ${url.pathname}; see GET /healthz, /metrics and the README for the API.`);
    }
    // A client that hangs up cancels its presence call.
    const controller = new AbortController();
    res.once('close', () => res.writableFinished || controller.abort());
    const body = await match.r.handle(decodeParams(match.m!.groups), url, req, controller.signal);
    send(res, 200, body);
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

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
