import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  createPresence,
  leave,
  memoryCache,
  PresenceAbortError,
  PresenceApiError,
  PresenceNetworkError,
  PresenceProtocolError,
  PresenceTimeoutError,
  type PresenceClient,
  type PresenceEventMap,
} from '@presence/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLagProbe, type LagProbe } from '@presence/core/testing';
import { httpTransport, type HttpTransport, type HttpTransportOptions } from './http-transport.js';
import { retry, type RetryOptions } from './retry.js';

// A real loopback server whose behaviour each test sets: what nock cannot show (the pool, real sockets).
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const HERE_NOW = JSON.stringify({ status: 200, message: 'OK', service: 'Presence', occupancy: 1, uuids: ['u1'] });
const ok: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/javascript; charset="UTF-8"' });
  res.end(HERE_NOW);
};

let server: Server;
let origin: string;
let handler: Handler = ok;
const sockets = new Set<Socket>();
let connections = 0;
let requests = 0;
let timersBefore = 0;
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

beforeAll(async () => {
  timersBefore = timers();
  server = createServer((req, res) => {
    requests++;
    handler(req, res);
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

const open: Array<{ client: PresenceClient; transport: HttpTransport }> = [];
// Timing checks allow for how late this process's own timers ran (a busy machine), plus a margin:
// they prove a deadline or an abort took effect and nothing hung, not that the CPU was idle.
const MARGIN_MS = 100;
let lag: LagProbe;
beforeEach(() => {
  lag = startLagProbe();
});
afterEach(async () => {
  lag.stop();
  handler = ok;
  connections = 0;
  requests = 0;
  for (const { client, transport } of open.splice(0)) {
    await client.close();
    // Closing the client closes the transport: its pool is empty afterwards.
    expect(transport.closed).toBe(true);
    expect(Object.keys(transport.agent.sockets)).toEqual([]);
    expect(Object.keys(transport.agent.freeSockets)).toEqual([]);
  }
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(sockets.size).toBe(0);
  expect(timers()).toBeLessThanOrEqual(timersBefore);
});

function setup(options: { transport?: HttpTransportOptions; retry?: RetryOptions; timeoutMs?: number } = {}) {
  const transport = httpTransport({ origin, ...options.transport });
  const client = createPresence({
    subscribeKey: 'sub',
    userId: 'me',
    transport,
    plugins: [retry({ baseDelayMs: 1, maxDelayMs: 5, ...options.retry })],
    // Generous unless a test is about the deadline: on a busy machine three attempts can take a while.
    timeoutMs: options.timeoutMs ?? 5000,
  });
  open.push({ client, transport });
  const attempts: PresenceEventMap['attempt'][] = [];
  client.events.on('attempt', (e) => attempts.push(e));
  return { client, transport, attempts };
}

/** Sockets the agent has lent out right now. */
const inUse = (transport: HttpTransport) => Object.values(transport.agent.sockets).reduce((n, list) => n + (list?.length ?? 0), 0);
const tick = () => new Promise((resolve) => setTimeout(resolve, 10));
const hereNow = (client: PresenceClient, signal?: AbortSignal) => client.hereNow({ channels: ['lobby'] }, { signal });

describe('keep-alive pool', () => {
  it('reuses one connection for sequential calls', async () => {
    const { client, transport } = setup();
    for (let i = 0; i < 5; i++) await hereNow(client);
    expect(requests).toBe(5);
    expect(connections).toBe(1);
    expect(inUse(transport)).toBe(0);
    expect(Object.values(transport.agent.freeSockets).flat()).toHaveLength(1);
  });

  it('opens at most maxSockets connections', async () => {
    const { client } = setup({ transport: { maxSockets: 2 } });
    await Promise.all(Array.from({ length: 20 }, () => hereNow(client)));
    expect(requests).toBe(20);
    expect(connections).toBeLessThanOrEqual(2);
  });
});

describe('abort and deadline over real sockets', () => {
  it('an abort during a request rejects at once, destroys the socket and leaves none in use', async () => {
    const { client, transport } = setup({ timeoutMs: 5000 });
    handler = () => {}; // never answers
    const controller = new AbortController();
    const pending = hereNow(client, controller.signal);
    while (requests === 0) await tick();
    expect(inUse(transport)).toBe(1);
    const aborted = performance.now();
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(PresenceAbortError);
    expect(performance.now() - aborted).toBeLessThan(MARGIN_MS + lag.totalLagMs);
    await tick();
    expect(inUse(transport)).toBe(0);
    expect(Object.values(transport.agent.freeSockets).flat()).toHaveLength(0);
    expect(sockets.size).toBe(0); // the server saw the connection close
  });

  it('an abort during a backoff sleep rejects at once with no socket in use', async () => {
    const { client, transport, attempts } = setup({ timeoutMs: 10_000, retry: { baseDelayMs: 5000, maxDelayMs: 5000, random: () => 0.99 } });
    handler = (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"status":503,"error":1,"message":"Service Unavailable","service":"Presence"}');
    };
    const controller = new AbortController();
    const pending = hereNow(client, controller.signal);
    await new Promise((resolve) => client.events.on('retry', resolve));
    expect(inUse(transport)).toBe(0);
    const aborted = performance.now();
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(PresenceAbortError);
    expect(performance.now() - aborted).toBeLessThan(MARGIN_MS + lag.totalLagMs);
    expect(attempts).toHaveLength(1);
    expect(inUse(transport)).toBe(0);
  });

  it('the deadline covers a hung server: timeout at the deadline (plus margin and observed loop lag), socket destroyed', async () => {
    const { client, transport } = setup({ timeoutMs: 300 });
    handler = () => {};
    const started = performance.now();
    await expect(hereNow(client)).rejects.toBeInstanceOf(PresenceTimeoutError);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + MARGIN_MS + lag.totalLagMs);
    await tick();
    expect(inUse(transport)).toBe(0);
    expect(sockets.size).toBe(0);
  });

  it('a per-attempt timeout fails the attempt with ETIMEDOUT and the retry gets a fresh socket', async () => {
    const { client, attempts } = setup({ timeoutMs: 5000, transport: { timeoutMs: 100 } });
    let seen = 0;
    handler = (req, res) => {
      if (++seen === 1) return; // first attempt hangs
      ok(req, res);
    };
    const result = await hereNow(client);
    expect(result.totalOccupancy).toBe(1);
    expect(attempts.map((a) => a.error?.code ?? a.status)).toEqual(['network_error', 200]);
    expect((attempts[0]!.error as PresenceNetworkError).errno).toBe('ETIMEDOUT');
    expect(connections).toBe(2);
  });
});

describe('cancellation without an AbortSignal', () => {
  /** Counts AbortControllers made while `work` runs (each costs about 2 µs with its signal). */
  async function controllersMadeDuring(work: () => Promise<unknown>): Promise<number> {
    const Original = globalThis.AbortController;
    let made = 0;
    globalThis.AbortController = class extends Original {
      constructor() {
        super();
        made++;
      }
    };
    try {
      await work();
    } finally {
      globalThis.AbortController = Original;
    }
    return made;
  }

  it('a call through the client watches its deadline with onCancel: no AbortController is made', async () => {
    const { client } = setup();
    await hereNow(client); // warm: the socket is open
    expect(await controllersMadeDuring(() => Promise.all([hereNow(client), hereNow(client), hereNow(client)]))).toBe(0);
  });

  it("a cache's single-flight runs the request under the flight's own deadline, which still destroys a hung request", async () => {
    const transport = httpTransport({ origin });
    // Long enough that the request surely reaches the server on a busy machine (it is counted below).
    const client = createPresence({ subscribeKey: 'sub', userId: 'me', transport, plugins: [memoryCache()], timeoutMs: 1500 });
    open.push({ client, transport });
    handler = () => {}; // never answers
    const started = performance.now();
    await expect(Promise.all([hereNow(client), hereNow(client)])).rejects.toBeInstanceOf(PresenceTimeoutError);
    expect(performance.now() - started).toBeLessThan(1500 + MARGIN_MS + lag.totalLagMs);
    expect(requests).toBe(1); // the two callers shared one request
    // The flight's deadline (1500 ms from its start) has passed too: its request is gone, not left hanging.
    while (inUse(transport) > 0 && performance.now() - started < 5000) await tick();
    expect(inUse(transport)).toBe(0);
    expect(performance.now() - started).toBeLessThan(1500 + 2 * MARGIN_MS + lag.totalLagMs);
  });

  it('a transport wrapper that copies the context keeps signal and onCancel, and cancellation still reaches the request', async () => {
    const http = httpTransport({ origin });
    const seenKeys: string[][] = [];
    const wrapper = { ...http, name: 'logging', send: (request: never, context: never) => (seenKeys.push(Object.keys({ ...(context as object) })), http.send(request, { ...(context as object) } as never)) };
    const client = createPresence({ subscribeKey: 'sub', userId: 'me', transport: wrapper, timeoutMs: 150 });
    open.push({ client, transport: http });
    handler = () => {}; // never answers
    await expect(hereNow(client)).rejects.toBeInstanceOf(PresenceTimeoutError);
    expect(seenKeys[0]).toEqual(expect.arrayContaining(['signal', 'onCancel', 'deadline', 'attempt']));
    await tick();
    expect(inUse(http)).toBe(0);
  });

  it('a middleware that spreads the call still gets cancellation, through the signal it copied', async () => {
    const { client, transport } = setup({ timeoutMs: 200 });
    client.stack.add((next) => (call) => next({ ...call }), { name: 'spreads', step: 'finalize', priority: -300 });
    handler = () => {}; // never answers
    const started = performance.now();
    await expect(hereNow(client)).rejects.toBeInstanceOf(PresenceTimeoutError);
    expect(performance.now() - started).toBeLessThan(200 + MARGIN_MS + lag.totalLagMs);
    await tick();
    expect(inUse(transport)).toBe(0);
  });
});

describe('dead keep-alive sockets (issue 16, defect 7)', () => {
  /** The server serves a connection once, then closes it when the next request arrives on it. */
  const oncePerConnection = (): void => {
    const served = new WeakMap<Socket, number>();
    handler = (req, res) => {
      const count = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, count);
      if (count > 1) return req.socket.destroy(); // the connection "died" while it sat in the pool
      ok(req, res);
    };
  };

  it('a pooled connection that was closed fails its attempt visibly; retry() sends it again at once, as a counted retry', async () => {
    const { client, attempts } = setup({ retry: { maxAttempts: 2, baseDelayMs: 10_000, maxDelayMs: 10_000 } });
    const retries: PresenceEventMap['retry'][] = [];
    client.events.on('retry', (e) => retries.push(e));
    const budget: number[] = [];
    client.events.on('retryBudget', (e) => budget.push(e.tokens));
    oncePerConnection();
    await hereNow(client);
    const second = await hereNow(client);
    expect(second.totalOccupancy).toBe(1);
    expect(attempts.map((a) => [a.attempt, a.status, (a.error as PresenceNetworkError | undefined)?.staleConnection])).toEqual([[1, 200, undefined], [1, undefined, true], [2, 200, undefined]]);
    // No backoff for a closed connection (baseDelayMs is 10 s here), and the retry is taken from the budget.
    expect(retries).toEqual([{ operation: 'hereNow', callId: 2, attempt: 2, reason: 'stale_connection', delayMs: 0 }]);
    expect(budget.length).toBeGreaterThan(0);
    expect(requests).toBe(3);
    expect(connections).toBe(2);
  });

  it('without retry() the transport never repeats it by itself: the call fails with an honest network error', async () => {
    const transport = httpTransport({ origin });
    const client = createPresence({ subscribeKey: 'sub', userId: 'me', transport, timeoutMs: 500 });
    open.push({ client, transport });
    oncePerConnection();
    await hereNow(client);
    const error = await hereNow(client).catch((e: unknown) => e);
    expect(error).toMatchObject({ constructor: PresenceNetworkError, errno: 'ECONNRESET', staleConnection: true, retryable: true });
    expect((error as Error).message).toMatch(/^hereNow: the pooled keep-alive connection to 127\.0\.0\.1:\d+ had been closed by the other side \(ECONNRESET\); the server may have read the request\. retry\(\) sends it again/);
    expect(requests).toBe(2);
  });

  it('an empty retry budget refuses the resend too', async () => {
    const { retryBudget } = await import('./retry-budget.js');
    const { client, attempts } = setup({ retry: { maxAttempts: 3, budget: retryBudget({ capacity: 1, retryCost: 5 }) } });
    oncePerConnection();
    await hereNow(client);
    await expect(hereNow(client)).rejects.toMatchObject({ staleConnection: true });
    expect(attempts).toHaveLength(2);
  });

  it('a custom write that is not safe to repeat is not sent again', async () => {
    const { client, attempts } = setup({ retry: { maxAttempts: 3 } });
    oncePerConnection();
    await hereNow(client);
    const publishLike = { ...leave, name: 'publish' as never, kind: 'write' as const };
    await expect(client.send(publishLike, { channels: ['lobby'] })).rejects.toMatchObject({ staleConnection: true });
    expect(attempts).toHaveLength(2);
  });
});

describe('real socket faults', () => {
  it('socket hang up (server drops the connection) is a retried network error', async () => {
    const { client, attempts } = setup();
    handler = (req) => req.socket.destroy();
    const error = await hereNow(client).catch((e: unknown) => e);
    expect(error).toMatchObject({ constructor: PresenceNetworkError, errno: 'ECONNRESET' });
    expect(attempts).toHaveLength(3);
  });

  it('connection refused is a network error with ECONNREFUSED', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const transport = httpTransport({ origin: `http://127.0.0.1:${port}` });
    const client = createPresence({ subscribeKey: 'sub', userId: 'me', transport, plugins: [retry({ baseDelayMs: 0, maxAttempts: 2 })], timeoutMs: 5000 });
    open.push({ client, transport });
    await expect(hereNow(client)).rejects.toMatchObject({ constructor: PresenceNetworkError, errno: 'ECONNREFUSED' });
  });

  it('a truncated body is a protocol error and its socket is not reused', async () => {
    const { client, attempts } = setup();
    let seen = 0;
    handler = (req, res) => {
      if (++seen > 1) return ok(req, res);
      res.writeHead(200, { 'content-type': 'text/javascript', 'content-length': '500' });
      res.write('{"status": 200, "occupancy"');
      setTimeout(() => res.socket?.destroy(), 5);
    };
    const error = await hereNow(client).catch((e: unknown) => e);
    expect(error).toMatchObject({ constructor: PresenceProtocolError, status: 200, excerpt: '{"status": 200, "occupancy"' });
    expect(attempts).toHaveLength(1);
    expect((await hereNow(client)).totalOccupancy).toBe(1);
    expect(connections).toBe(2);
  });

  it('an error body is read in full and its socket goes back to the pool', async () => {
    const { client } = setup({ retry: { maxAttempts: 1 } });
    handler = (_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end('{"message":"Forbidden","payload":{"channels":["lobby"]},"error":true,"service":"Access Manager","status":403}');
    };
    await expect(hereNow(client)).rejects.toMatchObject({ constructor: PresenceApiError, status: 403, channels: ['lobby'] });
    handler = ok;
    await hereNow(client);
    expect(connections).toBe(1);
  });
});
