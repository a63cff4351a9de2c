import { inspect } from 'node:util';
import { describe, expect, test, vi } from 'vitest';
import {
  createPresence,
  deriveCall,
  hereNow,
  PresenceAbortError,
  PresenceConfigurationError,
  PresenceError,
  PresenceNetworkError,
  PresenceSerializationError,
  PresenceTimeoutError,
  type Call,
  type PresenceEventMap,
  type StateSerializer,
} from './index.js';
import { createMemoryTransport } from './testing.js';

const SECRET = 'sec-SENTINEL-5a1t';
const AUTH = 'auth-SENTINEL-t0ken';
const base = () => ({ subscribeKey: 'sub', userId: 'me', transport: createMemoryTransport() });

describe('createPresence options', () => {
  test.each([
    ['subscribeKey', { subscribeKey: '' }],
    ['subscribeKey', { subscribeKey: undefined }],
    ['userId', { userId: 7 }],
    ['userId', { userId: 'x'.repeat(93) }],
    ['publishKey', { secretKey: SECRET }],
    ['authKey', { authKey: '' }],
    ['transport', { transport: {} }],
    ['serializer', { serializer: { encode: () => '{}' } }],
    ['timeoutMs', { timeoutMs: -1 }],
    ['timeoutMs', { timeoutMs: Number.POSITIVE_INFINITY }],
    ['invalidState', { invalidState: 'ignore' }],
    ['logger', { logger: { info() {} } }],
    ['plugins', { plugins: 'retry' }],
    ['plugins[0]', { plugins: [() => undefined] }],
    ['secretKey', { secretKey: SECRET, publishKey: 'pub' }],
    ['userId', { userId: 'a\nb' }],
    ['userId', { userId: 'a\u0000' }],
    ['userId', { userId: '\u001b[31mred' }],
    ['subscribeKey', { subscribeKey: 'sub\nkey' }],
    ['subscribeKey', { subscribeKey: 'sub key' }],
    ['subscribeKey', { subscribeKey: 'sub/key' }],
    ['timeout', { timeout: 5 }],
    ['plugin', { plugin: [] }],
  ])('a bad %s is a configuration error naming it, thrown at construction', (field, override) => {
    let error: unknown;
    try {
      createPresence({ ...base(), ...override } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PresenceConfigurationError);
    expect((error as PresenceConfigurationError).field).toBe(field);
    expect((error as Error).message).toContain(field.replace(/\[0\]$/, ''));
    expect(String((error as Error).message)).not.toContain(SECRET);
  });

  test('an unknown option names the closest known one, and known options given as undefined pass', () => {
    expect(() => createPresence({ ...base(), timeout: 5 } as never)).toThrow('createPresence: unknown option "timeout". Did you mean "timeoutMs"? Known options: subscribeKey, userId,');
    expect(() => createPresence({ ...base(), subscribe_key: 'x' } as never)).toThrow('Did you mean "subscribeKey"?');
    expect(() => createPresence({ ...base(), authKey: undefined, plugins: undefined, logger: undefined })).not.toThrow();
  });

  test('a user id names the character at fault and is never sent', () => {
    expect(() => createPresence({ ...base(), userId: 'a\nb' })).toThrow('userId contains control character U+000A, which a user id may not hold; remove or replace it.');
  });

  test('no option object at all', () => {
    expect(() => createPresence(undefined as never)).toThrow(PresenceConfigurationError);
  });
});

describe('deadline and abort', () => {
  test('timeout and abort messages name the operation and what to do', async () => {
    const transport = createMemoryTransport({ respond: () => ({ body: {}, delayMs: 5_000 }) });
    const presence = createPresence({ subscribeKey: 'sub', userId: 'me', transport });
    await expect(presence.whereNow({}, { timeoutMs: 20 })).rejects.toThrow('whereNow: the call did not finish within its 20 ms deadline; raise timeoutMs for this call or the client, or check the network.');
    const stop = new AbortController();
    const pending = presence.whereNow({}, { signal: stop.signal });
    stop.abort();
    await expect(pending).rejects.toThrow('whereNow: the call was aborted by its AbortSignal, as the caller asked; nothing more is done for it.');
  });

  test('a call that outlives its deadline rejects with a timeout at the deadline, and the transport sees the abort', async () => {
    let sawAbort: unknown;
    const transport = createMemoryTransport({
      respond: () => new Promise(() => {}), // never answers
    });
    const original = transport.send.bind(transport);
    transport.send = (request, context) => {
      context.signal.addEventListener('abort', () => (sawAbort = context.signal.reason));
      return original(request, context);
    };
    // A fake clock: the deadline is checked at 49 ms and 50 ms of the call's own time, whatever the machine's load.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const presence = createPresence({ ...base(), transport, timeoutMs: 50 });
      let settled = false;
      const outcome = presence.whereNow({}).catch((e: unknown) => e).finally(() => (settled = true));
      await vi.advanceTimersByTimeAsync(49);
      expect(settled).toBe(false);
      expect(sawAbort).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(settled).toBe(true);
      const error = await outcome;
      expect(error).toBeInstanceOf(PresenceTimeoutError);
      expect(error).toMatchObject({ code: 'timeout', timeoutMs: 50, operation: 'whereNow', retryable: true });
      expect(sawAbort).toBe(error);
    } finally {
      vi.useRealTimers();
    }
  });

  test('the per-call timeout overrides the client default', async () => {
    const transport = createMemoryTransport({ respond: () => ({ delayMs: 1000 }) });
    const presence = createPresence({ ...base(), transport });
    await expect(presence.whereNow({}, { timeoutMs: 20 })).rejects.toMatchObject({ timeoutMs: 20 });
  });

  test('the caller aborting rejects at once with an abort error, even if middleware ignores the signal', async () => {
    const presence = createPresence({
      ...base(),
      plugins: [{ name: 'stubborn', apply: (stack) => stack.add(() => () => new Promise(() => {}), { name: 'stubborn', step: 'initialize' }) }],
    });
    const controller = new AbortController();
    const pending = presence.whereNow({}, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user left')), 10);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PresenceAbortError);
    expect((error as Error).cause).toEqual(new Error('user left'));
  });

  test('an already aborted signal sends nothing', async () => {
    const transport = createMemoryTransport();
    const presence = createPresence({ ...base(), transport });
    await expect(presence.leave({ channels: ['a'] }, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(PresenceAbortError);
    expect(transport.requests).toHaveLength(0);
  });

  test('the deadline is a monotonic performance.now() reading, the same in the stack and at the transport', async () => {
    const transport = createMemoryTransport();
    let atTransport: number | undefined;
    const send = transport.send.bind(transport);
    transport.send = (request, context) => ((atTransport = context.deadline), send(request, context));
    const presence = createPresence({ ...base(), transport, timeoutMs: 5000 });
    const before = performance.now();
    await presence.leave({ channels: ['a'] });
    const after = performance.now();
    expect(atTransport).toBeGreaterThanOrEqual(before + 5000);
    expect(atTransport).toBeLessThanOrEqual(after + 5000);
  });

  test('a finished call leaves no timer behind', async () => {
    const presence = createPresence({ ...base(), timeoutMs: 60_000 });
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await presence.leave({ channels: ['a'] });
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
  });
});

describe('calls passed on with deriveCall', () => {
  test('carry changes and share one scope: the signal, made on first read, is the same for every copy', async () => {
    const seen: Call[] = [];
    const presence = createPresence({
      ...base(),
      plugins: [
        {
          name: 'spy',
          apply: (stack) => {
            stack.add((next) => (call) => next(deriveCall(call, { attempt: 7 })), { name: 'derive', step: 'finalize', priority: 0 });
            stack.add((next) => (call) => (seen.push(call), next(call)), { name: 'spy', step: 'finalize', priority: -200 });
          },
        },
      ],
    });
    await presence.leave({ channels: ['a'] });
    const [call] = seen;
    expect(call!.attempt).toBe(7);
    expect(call!.request?.operation).toBe('leave');
    const copy = deriveCall(call!, { request: undefined });
    expect(copy.request).toBeUndefined();
    expect(copy.signal).toBe(call!.signal);
    expect(copy.signal).toBeInstanceOf(AbortSignal);
  });

  test('a plain copy (a spread) stays plain, and a new scope replaces its signal and deadline', () => {
    const signal = new AbortController().signal;
    const plain = { id: 1, operation: hereNow, params: {}, config: {} as never, signal, deadline: 5, timeoutMs: 10, attempt: 1, request: undefined } as Call;
    expect(deriveCall(plain, { attempt: 2 })).toEqual({ ...plain, attempt: 2 });
    const scopeSignal = new AbortController().signal;
    const scope = { signal: scopeSignal, deadline: 9, cache: undefined, onCancel: () => () => {} };
    expect(deriveCall(plain, { scope })).toMatchObject({ signal: scopeSignal, deadline: 9, attempt: 1 });
  });
});

describe('events', () => {
  test('callStart, attempt and callEnd with outcome and duration', async () => {
    const transport = createMemoryTransport();
    transport.enqueue({ status: 403, body: { message: 'Forbidden', error: true, service: 'Access Manager', status: 403 } });
    const presence = createPresence({ ...base(), transport });
    const seen: Array<[string, unknown]> = [];
    for (const name of ['callStart', 'attempt', 'callEnd'] as const) presence.events.on(name, (payload) => seen.push([name, payload]));
    await presence.leave({ channels: ['a'] }).catch(() => undefined);
    await presence.leave({ channels: ['a'] });
    await presence.leave({ channels: [] }).catch(() => undefined);
    const names = seen.map(([n]) => n);
    expect(names).toEqual(['callStart', 'attempt', 'callEnd', 'callStart', 'attempt', 'callEnd', 'callStart', 'callEnd']);
    const ends = seen.filter(([n]) => n === 'callEnd').map(([, p]) => p as PresenceEventMap['callEnd']);
    expect(ends.map((e) => e.outcome)).toEqual(['api_error', 'success', 'validation_error']);
    expect(ends.every((e) => e.durationMs >= 0 && e.operation === 'leave')).toBe(true);
    expect((seen[1]![1] as PresenceEventMap['attempt']).status).toBe(403);
  });

  test('an attempt event has status when a response arrived, error when the transport failed with a typed error, neither otherwise', async () => {
    const transport = createMemoryTransport();
    const refused = new PresenceNetworkError('connect ECONNREFUSED', 'ECONNREFUSED');
    transport.enqueue({ body: { status: 200, message: 'OK', service: 'Presence' } }, { error: refused }, { error: new Error('a transport bug') });
    const presence = createPresence({ ...base(), transport });
    const attempts: Array<PresenceEventMap['attempt']> = [];
    presence.events.on('attempt', (attempt) => attempts.push(attempt));
    for (let i = 0; i < 3; i++) await presence.leave({ channels: ['a'] }).catch(() => undefined);
    expect(attempts.map((attempt) => Object.keys(attempt).sort())).toEqual([
      ['attempt', 'callId', 'durationMs', 'operation', 'status'],
      ['attempt', 'callId', 'durationMs', 'error', 'operation'],
      ['attempt', 'callId', 'durationMs', 'operation'],
    ]);
    expect(attempts[0]).toMatchObject({ operation: 'leave', attempt: 1, status: 200 });
    expect(attempts[1]!.error).toBe(refused);
    expect(attempts.every((attempt) => attempt.durationMs >= 0)).toBe(true);
  });

  test('a listener that throws never breaks a call; off() unsubscribes', async () => {
    const presence = createPresence(base());
    let calls = 0;
    const off = presence.events.on('callEnd', () => {
      calls++;
      throw new Error('observer bug');
    });
    await presence.leave({ channels: ['a'] });
    off();
    await presence.leave({ channels: ['a'] });
    expect(calls).toBe(1);
  });

  test("a listener's error is logged by event name only, and the call still resolves", async () => {
    const lines: Array<[object, string | undefined]> = [];
    const log = (fields: object, message?: string) => void lines.push([fields, message]);
    const presence = createPresence({ ...base(), logger: { debug: log, info: log, warn: log, error: log } });
    presence.events.on('callEnd', () => {
      throw new Error('observer bug with a secret');
    });
    await expect(presence.leave({ channels: ['a'] })).resolves.toBeUndefined();
    expect(lines).toEqual([[{ reason: 'callEnd' }, 'a presence event listener threw; the call went on']]);
  });

  test('an unknown event or a listener that is not a function is refused at on()', () => {
    const presence = createPresence(base());
    const on = presence.events.on as (event: string, listener: unknown) => unknown;
    expect(() => on('callFinished', () => {})).toThrow(PresenceConfigurationError);
    expect(() => on('callFinished', () => {})).toThrow(/Unknown presence event "callFinished"; the events are callStart, callEnd/);
    expect(() => on('callEnd', 'log it')).toThrow(/must be a function/);
    expect(presence.events.has('callFinished' as never)).toBe(false);
    expect(() => presence.events.emit('callFinished' as never, {} as never)).not.toThrow();
  });
});

describe('secret hygiene', () => {
  test('no error, toJSON, inspect or log line carries the secret key or the auth key', async () => {
    const lines: unknown[] = [];
    const log = (fields: object, message?: string) => void lines.push([fields, message]);
    const transport = createMemoryTransport({ respond: (req) => ({ status: 200, body: `not json ${req.target}`, headers: { 'content-type': 'text/javascript' } }) });
    const presence = createPresence({
      subscribeKey: 'sub',
      userId: 'me',
      publishKey: 'pub',
      secretKey: SECRET,
      authKey: AUTH,
      transport,
      logger: { debug: log, info: log, warn: log, error: log },
      plugins: [{ name: 'fake-signing', apply: (stack) => stack.add((next) => next, { name: 'signing', step: 'finalize', priority: -100 }) }],
    });
    const errors: unknown[] = [];
    errors.push(await presence.hereNow({ channels: ['a'] }).catch((e: unknown) => e));
    transport.enqueue({ status: 403, body: { message: `Forbidden ${AUTH}`, error: true, status: 403 } });
    errors.push(await presence.whereNow({}).catch((e: unknown) => e));
    expect(transport.requests[0]!.target).toContain(AUTH); // the request itself does carry auth
    const everything = JSON.stringify([errors.map((e) => [String(e), (e as Error).message, (e as PresenceError).toJSON(), inspect(e, { depth: 5 })]), lines, inspect(presence.config), JSON.stringify(presence.config)]);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(encodeURIComponent(SECRET));
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain('auth-SENTINEL');
    expect(inspect(presence.config)).toContain('[redacted]');
  });
});

describe('state decoding failures', () => {
  const picky: StateSerializer<{ mood: string }> = {
    id: 'picky',
    encode: (s) => JSON.stringify(s),
    decode(value) {
      if (typeof value === 'object' && value !== null && typeof (value as { mood?: unknown }).mood === 'string') return value as { mood: string };
      throw new PresenceSerializationError('state.mood must be a string', { path: 'mood' });
    },
  };
  const body = { status: 200, message: 'OK', service: 'Presence', occupancy: 2, uuids: [{ uuid: 'a', state: { mood: 'ok' } }, { uuid: 'b', state: { mood: 1 } }] };

  test('throw (default): a serialization error naming the channel and the user', async () => {
    const presence = createPresence({ ...base(), transport: createMemoryTransport({ respond: () => ({ body }) }), serializer: picky });
    const error = await presence.hereNow({ channels: ['lobby'], includeState: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PresenceSerializationError);
    expect(error).toMatchObject({ channel: 'lobby', userId: 'b', path: 'mood', operation: 'hereNow' });
  });

  test('omit: the occupant is kept without state and a stateDropped event is emitted', async () => {
    const presence = createPresence({ ...base(), transport: createMemoryTransport({ respond: () => ({ body }) }), serializer: picky, invalidState: 'omit' });
    const dropped: PresenceEventMap['stateDropped'][] = [];
    presence.events.on('stateDropped', (e) => dropped.push(e));
    const result = await presence.hereNow({ channels: ['lobby'], includeState: true });
    expect(result.channels[0]!.occupants).toEqual([{ userId: 'a', state: { mood: 'ok' } }, { userId: 'b' }]);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ operation: 'hereNow', channel: 'lobby', userId: 'b' });
  });
});

describe('close', () => {
  test('closes plugins and the transport once; later calls fail clearly', async () => {
    const transport = createMemoryTransport();
    let transportClosed = 0;
    let pluginClosed = 0;
    transport.close = () => void transportClosed++;
    const presence = createPresence({ ...base(), transport, plugins: [{ name: 'p', apply: (stack) => stack.onClose(() => void pluginClosed++) }] });
    await presence.close();
    await presence.close();
    expect([transportClosed, pluginClosed]).toEqual([1, 1]);
    await expect(presence.whereNow({})).rejects.toThrow(/client is closed/);
  });
});

describe('plugins that make calls of their own', () => {
  test('attach(client) runs once per plugin, after every plugin is in the stack, with the finished client', () => {
    const seen: string[] = [];
    const plugin = (name: string) => ({
      name,
      apply: () => void seen.push(`apply ${name}`),
      attach: (client: { hereNow: unknown; stack: { has(name: string): boolean } }) => {
        seen.push(`attach ${name}`);
        expect(typeof client.hereNow).toBe('function');
        expect(client.stack.has('parseResponse')).toBe(true);
      },
    });
    createPresence({ ...base(), plugins: [plugin('a'), { name: 'plain', apply: () => void seen.push('apply plain') }, plugin('b')] });
    expect(seen).toEqual(['apply a', 'apply plain', 'apply b', 'attach a', 'attach b']);
  });
});
