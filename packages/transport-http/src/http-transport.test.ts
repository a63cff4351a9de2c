import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import zlib from 'node:zlib';
import {
  createPresence,
  encodeString,
  PresenceApiError,
  PresenceConfigurationError,
  PresenceError,
  PresenceNetworkError,
  PresenceProtocolError,
  PresenceTimeoutError,
  type PresenceEventMap,
  type PresenceRequest,
} from '@presence/core';
import { startLagProbe } from '@presence/core/testing';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpTransport, type HttpTransport, type HttpTransportOptions } from './http-transport.js';
import { retry, type RetryOptions } from './retry.js';

const ORIGIN = 'https://ps.presence.test';
const PATH = '/v2/presence/sub-key/sub/channel/lobby';
// The call deadline of the cases about it; the others get a generous one, so that on a busy machine
// three attempts never run into it and turn the fault under test into a timeout.
const DEADLINE = 400;
const GENEROUS_DEADLINE = 4000;
const MARGIN_MS = 150;
const JS = { 'content-type': 'text/javascript; charset="UTF-8"' };
const HERE_NOW = JSON.stringify({ status: 200, message: 'OK', service: 'Presence', occupancy: 1, uuids: ['u1'] });
// Sentinels with characters that percent-encode differently in encodeURIComponent and encodeString.
const SECRET_KEY = 'SENTINEL-secret-key!';
const AUTH_KEY = "SENTINEL-auth~key'(x)";

const open: Array<{ close(): Promise<void> }> = [];
const transports: HttpTransport[] = [];
let resourcesBefore: string[] = [];

beforeAll(() => {
  nock.disableNetConnect();
  resourcesBefore = process.getActiveResourcesInfo();
});
afterEach(async () => {
  nock.abortPendingRequests();
  nock.cleanAll();
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  nock.enableNetConnect();
  // Let destroyed sockets finish closing, then check nothing is left behind: no pooled socket, no timer.
  await new Promise((resolve) => setImmediate(resolve));
  for (const transport of transports) {
    expect(transport.closed).toBe(true);
    expect(Object.keys(transport.agent.sockets)).toEqual([]);
    expect(Object.keys(transport.agent.freeSockets)).toEqual([]);
  }
  const count = (list: string[], kind: string) => list.filter((r) => r === kind).length;
  const after = process.getActiveResourcesInfo();
  for (const kind of ['Timeout', 'TCPSocketWrap', 'TLSWrap']) expect(count(after, kind), kind).toBeLessThanOrEqual(count(resourcesBefore, kind));
});

interface Setup {
  retry?: RetryOptions;
  transport?: HttpTransportOptions;
  timeoutMs?: number;
  secrets?: boolean;
}

function setup(options: Setup = {}) {
  const transport = httpTransport({ origin: ORIGIN, ...options.transport });
  transports.push(transport);
  const logs: string[] = [];
  const log = (fields: object, message?: string) => void logs.push(`${JSON.stringify(fields)} ${message ?? ''}`);
  const client = createPresence({
    subscribeKey: 'sub',
    userId: 'me',
    publishKey: 'pub',
    ...(options.secrets ? { secretKey: SECRET_KEY, authKey: AUTH_KEY } : {}),
    transport,
    plugins: [retry({ baseDelayMs: 1, maxDelayMs: 5, ...options.retry })],
    timeoutMs: options.timeoutMs ?? GENEROUS_DEADLINE,
    logger: { debug: log, info: log, warn: log, error: log },
  });
  open.push(client);
  const attempts: PresenceEventMap['attempt'][] = [];
  const retries: PresenceEventMap['retry'][] = [];
  client.events.on('attempt', (e) => attempts.push(e));
  client.events.on('retry', (e) => retries.push(e));
  return { transport, client, attempts, retries, logs };
}

async function settle(promise: Promise<unknown>) {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return { error, elapsed: performance.now() - started };
}

const scope = () => nock(ORIGIN).get(PATH).query(true);
const errorWith = (message: string, code: string) => Object.assign(new Error(message), { code });
const apiBody = (status: number, message: string, service = 'Presence') => JSON.stringify({ status, error: 1, message, service });

/** A body that sends its start, then stalls longer than any deadline here. */
function stallingBody(start: string) {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(start);
      }
    },
  });
}

interface FaultCase {
  name: string;
  /** The call deadline is what this case is about: it runs with DEADLINE. */
  deadline?: true;
  mock: () => void;
  transport?: HttpTransportOptions;
  check: (error: unknown) => void;
  attempts: number;
  reason?: PresenceEventMap['retry']['reason'];
}

const faults: FaultCase[] = [
  {
    name: 'ECONNRESET',
    mock: () => scope().times(3).replyWithError(errorWith('read ECONNRESET', 'ECONNRESET')),
    check: (e) => expect(e).toMatchObject({ constructor: PresenceNetworkError, errno: 'ECONNRESET', retryable: true }),
    attempts: 3,
    reason: 'network_error',
  },
  {
    name: 'ETIMEDOUT',
    mock: () => scope().times(3).replyWithError(errorWith('connect ETIMEDOUT 10.0.0.1:443', 'ETIMEDOUT')),
    check: (e) => expect(e).toMatchObject({ constructor: PresenceNetworkError, errno: 'ETIMEDOUT' }),
    attempts: 3,
    reason: 'timeout',
  },
  {
    name: 'socket hang up',
    mock: () => scope().times(3).replyWithError(errorWith('socket hang up', 'ECONNRESET')),
    check: (e) => expect(e).toMatchObject({ constructor: PresenceNetworkError, errno: 'ECONNRESET' }),
    attempts: 3,
    reason: 'network_error',
  },
  {
    name: 'delayed headers (the call deadline fires)',
    deadline: true,
    mock: () => scope().delay(5000).reply(200, HERE_NOW, JS),
    check: (e) => expect(e).toBeInstanceOf(PresenceTimeoutError),
    attempts: 1,
  },
  {
    name: 'delayed headers with a per-attempt timeout (each attempt times out, then retried)',
    transport: { timeoutMs: 100 },
    mock: () => scope().times(3).delay(5000).reply(200, HERE_NOW, JS),
    check: (e) => expect(e).toMatchObject({ constructor: PresenceNetworkError, errno: 'ETIMEDOUT' }),
    attempts: 3,
    reason: 'timeout',
  },
  {
    name: 'delayed body',
    deadline: true,
    mock: () => scope().reply(200, () => stallingBody('{"status": 200, "occupancy"'), JS),
    check: (e) => expect(e).toBeInstanceOf(PresenceTimeoutError),
    attempts: 1,
  },
  {
    name: 'truncated body (content-length says more than arrives)',
    mock: () => scope().reply(200, '{"status": 200, "occ', { ...JS, 'content-length': '200' }),
    check: (e) => {
      expect(e).toMatchObject({ constructor: PresenceProtocolError, status: 200, excerpt: '{"status": 200, "occ' });
      expect((e as Error).message).toMatch(/cut short/);
    },
    attempts: 1,
  },
  {
    name: 'malformed JSON',
    mock: () => scope().reply(200, '{"status": 200, "occupancy": 1, uu', JS),
    check: (e) => expect(e).toMatchObject({ constructor: PresenceProtocolError, status: 200 }),
    attempts: 1,
  },
  {
    name: 'wrong content type',
    mock: () => scope().reply(200, '<html>captive portal</html>', { 'content-type': 'text/html' }),
    check: (e) => {
      expect(e).toMatchObject({ constructor: PresenceProtocolError, status: 200, excerpt: '<html>captive portal</html>' });
      expect((e as Error).message).toContain('text/html');
    },
    attempts: 1,
  },
  {
    name: '429 with Retry-After, every time',
    mock: () => scope().times(3).reply(429, apiBody(429, 'Too many requests.'), { ...JS, 'retry-after': '0.01' }),
    check: (e) => expect(e).toMatchObject({ constructor: PresenceApiError, status: 429, retryAfterMs: 10, retryable: true }),
    attempts: 3,
    reason: 'rate_limited',
  },
  {
    name: '500',
    mock: () => scope().times(3).reply(500, apiBody(500, 'Internal Server Error'), JS),
    check: (e) => expect(e).toMatchObject({ constructor: PresenceApiError, status: 500, httpStatus: 500 }),
    attempts: 3,
    reason: 'server_error',
  },
  {
    name: '503',
    mock: () => scope().times(3).reply(503, JSON.stringify({ service: 'Access Manager', status: 503, error: true, message: 'Service Unavailable' }), JS),
    check: (e) => expect(e).toMatchObject({ constructor: PresenceApiError, status: 503, service: 'Access Manager', serviceMessage: 'Service Unavailable' }),
    attempts: 3,
    reason: 'server_error',
  },
  {
    name: 'false-200 503',
    mock: () => scope().times(3).reply(200, apiBody(503, 'Service Unavailable'), JS),
    check: (e) => expect(e).toMatchObject({ constructor: PresenceApiError, status: 503, httpStatus: 200, retryable: true }),
    attempts: 3,
    reason: 'server_error',
  },
  {
    name: '403 Access Manager',
    mock: () =>
      scope().reply(403, JSON.stringify({ message: 'Forbidden', payload: { channels: ['lobby'], 'channel-groups': ['cg'] }, error: true, service: 'Access Manager', status: 403 }), JS),
    check: (e) =>
      expect(e).toMatchObject({ constructor: PresenceApiError, status: 403, service: 'Access Manager', serviceMessage: 'Forbidden', channels: ['lobby'], channelGroups: ['cg'], retryable: false }),
    attempts: 1,
  },
  {
    name: '414',
    mock: () => scope().reply(414, JSON.stringify({ message: 'Request URI Too Long', error: true, service: 'Balancer', status: 414 }), JS),
    check: (e) => expect(e).toMatchObject({ constructor: PresenceApiError, status: 414, service: 'Balancer', retryable: false }),
    attempts: 1,
  },
];

describe('fault matrix (nock)', () => {
  it.each(faults)('$name', async (fault) => {
    const timeoutMs = fault.deadline ? DEADLINE : GENEROUS_DEADLINE;
    const { client, attempts, retries } = setup({ transport: fault.transport, timeoutMs });
    fault.mock();
    const lag = startLagProbe();
    const { error, elapsed } = await settle(client.hereNow({ channels: ['lobby'] }));
    lag.stop();
    fault.check(error);
    expect(attempts).toHaveLength(fault.attempts);
    expect(attempts.map((a) => a.attempt)).toEqual(Array.from({ length: fault.attempts }, (_, i) => i + 1));
    expect(retries.map((r) => r.reason)).toEqual(Array.from({ length: fault.attempts - 1 }, () => fault.reason));
    // Nothing hangs: no case outlives its call deadline by more than a margin and this process's own lag.
    expect(elapsed).toBeLessThan(timeoutMs + MARGIN_MS + lag.totalLagMs);
  });

  it('429 with Retry-After, then success: sleeps what the server asked, capped at maxDelayMs', async () => {
    const { client, attempts, retries } = setup({ retry: { maxDelayMs: 30 } });
    scope().reply(429, apiBody(429, 'Too Many Requests'), { ...JS, 'retry-after': '2' });
    scope().reply(200, HERE_NOW, JS);
    const started = performance.now();
    const result = await client.hereNow({ channels: ['lobby'] });
    expect(result.channels[0]!.occupants).toEqual([{ userId: 'u1' }]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(attempts.map((a) => a.status)).toEqual([429, 200]);
    expect(retries).toEqual([expect.objectContaining({ reason: 'rate_limited', delayMs: 30, attempt: 2 })]);
  });

  it.each([400, 404])('%s is never retried', async (status) => {
    const { client, attempts } = setup();
    scope().times(3).reply(status, apiBody(status, 'no'), JS);
    await expect(client.hereNow({ channels: ['lobby'] })).rejects.toMatchObject({ constructor: PresenceApiError, status });
    expect(attempts).toHaveLength(1);
  });
});

describe('secret hygiene', () => {
  // Everything an error can show: message, stack, cause chain, own fields, toJSON().
  const exposed = (error: unknown): string[] => {
    const out = [inspect(error, { depth: 20, showHidden: true }), String(error)];
    for (let e: unknown = error; e instanceof Error; e = e.cause) {
      out.push(e.message, e.stack ?? '', JSON.stringify(e));
      if (PresenceError.isInstance(e)) out.push(JSON.stringify(e.toJSON()));
    }
    return out;
  };
  const forms = (value: string) => [value, encodeURIComponent(value), encodeString(value)];

  it('no error, cause, toJSON() or log line carries the secret key, the auth key or a signature', async () => {
    const signatures: string[] = [];
    // A misbehaving proxy that echoes the secret parameters back in its error pages, as sent and decoded.
    const echo = function (this: { req: { path: string } }) {
      const raw = this.req.path.split('?')[1]!;
      const query = new URLSearchParams(raw);
      signatures.push(query.get('signature')!);
      const sent = raw.split('&').filter((p) => p.startsWith('auth=') || p.startsWith('signature='));
      return `denied ${sent.join(' ')} ${query.get('auth')} ${query.get('signature')}`;
    };
    const seen: string[] = [];
    for (const fault of faults) {
      const { client, logs } = setup({ transport: fault.transport, secrets: true });
      fault.mock();
      const { error } = await settle(client.hereNow({ channels: ['lobby'] }));
      expect(PresenceError.isInstance(error)).toBe(true);
      seen.push(...exposed(error), ...logs);
      await client.close();
    }
    const cases: Array<[string, () => void]> = [
      ['no match in nock (its message quotes the URL)', () => undefined],
      ['echoed request line, truncated', () => scope().reply(200, echo, { ...JS, 'content-length': '5000' })],
      ['echoed request line, HTML error page', () => scope().times(3).reply(502, echo, { 'content-type': 'text/html' })],
      ['echoed request line, wrong content type', () => scope().reply(200, echo, { 'content-type': 'text/plain' })],
    ];
    for (const [, mock] of cases) {
      const { client, logs } = setup({ secrets: true });
      mock();
      const { error } = await settle(client.hereNow({ channels: ['lobby'] }));
      expect(PresenceError.isInstance(error)).toBe(true);
      seen.push(...exposed(error), ...logs);
      await client.close();
    }
    expect(signatures.length).toBeGreaterThan(3);
    const text = seen.join('\n');
    // The check itself can fail: the echoed path reached the errors (scrubbed).
    expect(text).toContain('[redacted]');
    for (const secret of [SECRET_KEY, AUTH_KEY, ...signatures]) {
      for (const form of forms(secret)) expect(text).not.toContain(form);
    }
  });
});

describe('responses', () => {
  const request: PresenceRequest = { operation: 'hereNow', path: PATH, query: [['uuid', 'me']] };
  const context = () => ({ signal: new AbortController().signal, deadline: performance.now() + 2000, attempt: 1 });
  const direct = (options: HttpTransportOptions = {}) => {
    const transport = httpTransport({ origin: ORIGIN, ...options });
    transports.push(transport);
    open.push({ close: () => transport.close() });
    return transport;
  };

  it('sends the request line as built, asks for gzip, and lower-cases response headers', async () => {
    const transport = direct({ headers: { 'X-Trace': 'abc' } });
    let seen: { path: string; headers: Record<string, string> } | undefined;
    nock(ORIGIN).get(PATH).query(true).reply(function () {
      seen = { path: this.req.path, headers: this.req.headers };
      return [200, HERE_NOW, { 'Content-Type': 'text/javascript', 'X-Custom': 'Yes', 'Set-Cookie': ['a=1', 'b=2'] }];
    });
    const response = await transport.send({ ...request, query: [['uuid', 'user#1'], ['state', '{"a":"~"}']] }, context());
    expect(seen!.path).toBe(`${PATH}?uuid=user%231&state=%7B%22a%22%3A%22%7E%22%7D`);
    expect(seen!.headers).toMatchObject({ 'accept-encoding': 'gzip, deflate', 'x-trace': 'abc' });
    expect(response).toEqual({ status: 200, body: HERE_NOW, headers: expect.objectContaining({ 'content-type': 'text/javascript', 'x-custom': 'Yes', 'set-cookie': 'a=1, b=2' }) });
  });

  it.each([
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['deflate', zlib.deflateRawSync],
  ] as const)('decompresses %s', async (encoding, compress) => {
    const transport = direct();
    scope().reply(200, compress(Buffer.from(HERE_NOW)), { ...JS, 'content-encoding': encoding });
    expect((await transport.send(request, context())).body).toBe(HERE_NOW);
  });

  it('a corrupt compressed body is a protocol error', async () => {
    const transport = direct();
    scope().reply(200, Buffer.from('not gzip at all'), { ...JS, 'content-encoding': 'gzip' });
    await expect(transport.send(request, context())).rejects.toMatchObject({ constructor: PresenceProtocolError, status: 200, message: /decompressed/ });
  });

  it('an encoding it did not ask for is a protocol error', async () => {
    const transport = direct();
    scope().reply(200, Buffer.from('xx'), { ...JS, 'content-encoding': 'compress' });
    await expect(transport.send(request, context())).rejects.toMatchObject({ constructor: PresenceProtocolError, message: /"compress"/ });
  });

  it.each([
    ['declared too large', () => scope().reply(200, 'x'.repeat(2000), JS)],
    ['streamed too large', () => scope().reply(200, () => Readable.from([Buffer.alloc(600, 'x'), Buffer.alloc(600, 'x')]), JS)],
    ['too large once decompressed', () => scope().reply(200, zlib.gzipSync(Buffer.alloc(5000, 'x')), { ...JS, 'content-encoding': 'gzip' })],
  ])('caps the body: %s is a protocol error', async (_name, mock) => {
    const transport = direct({ maxBodyBytes: 1024 });
    mock();
    await expect(transport.send(request, context())).rejects.toMatchObject({ constructor: PresenceProtocolError, status: 200, message: /maxBodyBytes \(1024 bytes\)/ });
  });

  it('rejects with the signal reason when already aborted, without sending', async () => {
    const transport = direct();
    const mock = scope().reply(200, HERE_NOW, JS);
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(transport.send(request, { ...context(), signal: controller.signal })).rejects.toBe(reason);
    expect(mock.isDone()).toBe(false);
  });

  it('refuses to send once closed', async () => {
    const transport = direct();
    await transport.close();
    await expect(transport.send(request, context())).rejects.toBeInstanceOf(PresenceConfigurationError);
  });
});

describe('options', () => {
  it.each([
    ['origin', { origin: 'ftp://x' }],
    ['origin', { origin: 'not a url' }],
    ['origin', { origin: 'https://x/v2' }],
    ['origin', { origin: 'https://user:pw@x' }],
    ['maxSockets', { maxSockets: 0 }],
    ['maxSockets', { maxSockets: 1.5 }],
    ['timeoutMs', { timeoutMs: -1 }],
    ['maxBodyBytes', { maxBodyBytes: '1' }],
    ['agent', { agent: {} }],
    ['headers', { headers: { 'Accept-Encoding': 'br' } }],
    ['headers', { headers: { 'x-a': 1 } }],
    ['timeout', { timeout: 5 }],
    ['keepAlive', { keepAlive: true }],
  ])('refuses a bad %s', (field, options) => {
    let error: unknown;
    try {
      httpTransport(options as HttpTransportOptions);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PresenceConfigurationError);
    expect((error as PresenceConfigurationError).field).toBe(`httpTransport.${field}`);
  });

  it('defaults to PubNub over TLS and normalises the origin', () => {
    const a = httpTransport();
    const b = httpTransport({ origin: 'http://127.0.0.1:8080/' });
    transports.push(a, b);
    expect(a.origin).toBe('https://ps.pndsn.com');
    expect(a.agent.maxSockets).toBe(50);
    expect(b.origin).toBe('http://127.0.0.1:8080');
    void a.close();
    void b.close();
  });

  it('adds signing to a client with a secret key, and only then', () => {
    const signed = setup({ secrets: true });
    const plain = setup();
    expect(signed.client.stack.list().find((m) => m.name === 'signing')).toEqual({ name: 'signing', step: 'finalize', priority: -100 });
    expect(plain.client.stack.has('signing')).toBe(false);
  });
});
