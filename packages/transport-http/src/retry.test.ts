import {
  createPresence,
  PresenceAbortError,
  PresenceApiError,
  PresenceConfigurationError,
  PresenceNetworkError,
  PresenceProtocolError,
  PresenceValidationError,
  retryReasonOf,
  type PresenceEventMap,
} from '@presence/core';
import { createMemoryTransport, startLagProbe, type ScriptedResponse } from '@presence/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { retry, type RetryOptions } from './retry.js';
import { retryBudget } from './retry-budget.js';

const OK: ScriptedResponse = { body: { status: 200, message: 'OK', service: 'Presence', occupancy: 1, uuids: ['u1'] } };
const apiBody = (status: number, message = 'x', service = 'Presence') => ({ status, error: 1, message, service });
const R503: ScriptedResponse = { status: 503, body: apiBody(503, 'Service Unavailable') };

const clients: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function setup(options: RetryOptions = {}, timeoutMs = 2000) {
  const transport = createMemoryTransport({ respond: () => OK });
  const plugin = retry({ baseDelayMs: 1, maxDelayMs: 10, ...options });
  const client = createPresence({ subscribeKey: 'sub', userId: 'me', transport, plugins: [plugin], timeoutMs });
  clients.push(client);
  const retries: PresenceEventMap['retry'][] = [];
  const budgets: number[] = [];
  client.events.on('retry', (e) => retries.push(e));
  client.events.on('retryBudget', (e) => budgets.push(e.tokens));
  return { transport, client, plugin, retries, budgets };
}

describe('retry: what is retried', () => {
  it.each([
    ['network error', { error: new PresenceNetworkError('reset', 'ECONNRESET') }, 'network_error'],
    ['attempt timeout', { error: new PresenceNetworkError('slow', 'ETIMEDOUT') }, 'timeout'],
    ['429', { status: 429, body: apiBody(429, 'Too many requests.') }, 'rate_limited'],
    ['500', { status: 500, body: apiBody(500) }, 'server_error'],
    ['503', R503, 'server_error'],
    ['504 HTML page', { status: 504, body: '<html>gateway</html>', headers: { 'content-type': 'text/html' } }, 'server_error'],
    ['false-200 503', { status: 200, body: apiBody(503, 'Service Unavailable') }, 'server_error'],
  ] as const)('%s: retried, then succeeds on attempt 2', async (_name, failure, reason) => {
    const { transport, client, retries } = setup();
    transport.enqueue(failure);
    const result = await client.hereNow({ channels: ['a'] });
    expect(result.totalOccupancy).toBe(1);
    expect(transport.requests.map((r) => r.attempt)).toEqual([1, 2]);
    expect(retries).toEqual([expect.objectContaining({ operation: 'hereNow', attempt: 2, reason })]);
  });

  it.each([
    ['400', { status: 400, body: apiBody(400, 'Invalid JSON specified.') }, PresenceApiError],
    ['403', { status: 403, body: { message: 'Forbidden', payload: { channels: ['a'] }, error: true, service: 'Access Manager', status: 403 } }, PresenceApiError],
    ['404', { status: 404, body: { message: 'Not found', error: 1, service: 'Presence' } }, PresenceApiError],
    ['414', { status: 414, body: { message: 'Request URI Too Long', error: true, service: 'Balancer', status: 414 } }, PresenceApiError],
    ['false-200 402', { status: 200, body: apiBody(402, 'This feature is not turned on') }, PresenceApiError],
    ['wrong content type', { status: 200, body: '<html></html>', headers: { 'content-type': 'text/html' } }, PresenceProtocolError],
    ['malformed JSON', { status: 200, body: '{"status": 200, "occ' }, PresenceProtocolError],
  ] as const)('%s: never retried', async (_name, failure, type) => {
    const { transport, client, retries } = setup();
    transport.enqueue(failure as ScriptedResponse);
    await expect(client.hereNow({ channels: ['a'] })).rejects.toBeInstanceOf(type);
    expect(transport.requests).toHaveLength(1);
    expect(retries).toEqual([]);
  });

  it('never retries a validation error (nothing is sent)', async () => {
    const { transport, client } = setup();
    await expect(client.hereNow({ channels: ['a,b'] })).rejects.toBeInstanceOf(PresenceValidationError);
    expect(transport.requests).toHaveLength(0);
  });

  it('stops after maxAttempts with the last error', async () => {
    const { transport, client, retries } = setup({ maxAttempts: 4 });
    transport.enqueue(R503, R503, R503, { status: 500, body: apiBody(500, 'last') });
    const error = await client.hereNow({ channels: ['a'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PresenceApiError);
    expect((error as PresenceApiError).serviceMessage).toBe('last');
    expect(transport.requests).toHaveLength(4);
    expect(retries.map((r) => r.attempt)).toEqual([2, 3, 4]);
  });

  it('maxAttempts 1 turns retries off', async () => {
    const { transport, client } = setup({ maxAttempts: 1 });
    transport.enqueue(R503);
    await expect(client.hereNow({ channels: ['a'] })).rejects.toBeInstanceOf(PresenceApiError);
    expect(transport.requests).toHaveLength(1);
  });

  it('classifies errors from other PresenceError look-alikes by code', () => {
    expect(retryReasonOf(new Error('x'))).toBeUndefined();
    expect(retryReasonOf(new PresenceApiError({ status: 403, httpStatus: 403 }))).toBeUndefined();
    expect(retryReasonOf(new PresenceApiError({ status: 503, httpStatus: 200 }))).toBe('server_error');
  });
});

describe('retry: backoff', () => {
  it('full jitter: random × min(maxDelayMs, baseDelayMs × 2^(n-1))', async () => {
    const draws = [0.5, 0.5, 0.999, 0];
    const { transport, client, retries } = setup({ maxAttempts: 5, baseDelayMs: 4, maxDelayMs: 12, random: () => draws.shift()! });
    transport.enqueue(R503, R503, R503, R503);
    await client.hereNow({ channels: ['a'] });
    // ceilings 4, 8, 16→12, 32→12
    expect(retries.map((r) => r.delayMs)).toEqual([2, 4, 11, 0]);
  });

  it('Retry-After replaces the backoff, capped at maxDelayMs', async () => {
    const { transport, client, retries } = setup({ baseDelayMs: 1, maxDelayMs: 30, random: () => { throw new Error('not used'); } });
    transport.enqueue({ status: 429, body: apiBody(429), headers: { 'retry-after': '0.02' } }, { status: 503, body: apiBody(503), headers: { 'retry-after': '120' } });
    const started = performance.now();
    await client.hereNow({ channels: ['a'] });
    expect(retries.map((r) => [r.reason, r.delayMs])).toEqual([['rate_limited', 20], ['server_error', 30]]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('fails at once with the last error when the sleep would pass the deadline', async () => {
    const { transport, client, retries } = setup({ maxDelayMs: 20_000 }, 300);
    transport.enqueue({ status: 429, body: apiBody(429), headers: { 'retry-after': '1' } });
    const lag = startLagProbe();
    const started = performance.now();
    const error = await client.hereNow({ channels: ['a'] }).catch((e: unknown) => e);
    lag.stop();
    expect(error).toBeInstanceOf(PresenceApiError);
    expect((error as PresenceApiError).status).toBe(429);
    // At once: well before the 1 s sleep it refused, allowing for how late this busy process ran.
    expect(performance.now() - started).toBeLessThan(250 + lag.totalLagMs);
    expect(transport.requests).toHaveLength(1);
    expect(retries).toEqual([]);
  });

  it('an abort during the backoff sleep rejects at once with the abort error', async () => {
    const { transport, client, retries } = setup({ baseDelayMs: 5000, maxDelayMs: 5000, random: () => 0.99 }, 10_000);
    transport.enqueue(R503);
    const controller = new AbortController();
    const pending = client.hereNow({ channels: ['a'] }, { signal: controller.signal });
    await new Promise((resolve) => client.events.on('retry', resolve));
    const lag = startLagProbe();
    const aborted = performance.now();
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(PresenceAbortError);
    lag.stop();
    // At once: not after the 5 s backoff, allowing for how late this busy process ran.
    expect(performance.now() - aborted).toBeLessThan(100 + lag.totalLagMs);
    expect(retries).toHaveLength(1);
    expect(transport.requests).toHaveLength(1);
  });

  it('does not retry once the call is aborted', async () => {
    const controller = new AbortController();
    const transport = createMemoryTransport({ respond: () => { controller.abort(); return R503; } });
    const client = createPresence({ subscribeKey: 'sub', userId: 'me', transport, plugins: [retry({ baseDelayMs: 0 })] });
    clients.push(client);
    await expect(client.hereNow({ channels: ['a'] }, { signal: controller.signal })).rejects.toBeInstanceOf(PresenceAbortError);
    expect(transport.requests).toHaveLength(1);
  });
});

describe('retry: budget', () => {
  it('takes retryCost per retry and timeoutCost per timeout retry, and reports the tokens', async () => {
    const budget = retryBudget({ capacity: 100 });
    const { transport, client, budgets } = setup({ budget });
    transport.enqueue(R503, { error: new PresenceNetworkError('slow', 'ETIMEDOUT') });
    await client.hereNow({ channels: ['a'] });
    expect(budget.tokens).toBe(85);
    expect(budgets).toEqual([95, 85]);
  });

  it('an empty budget fails the call with the last error, without retrying', async () => {
    const budget = retryBudget({ capacity: 7 });
    const { transport, client, retries } = setup({ budget, maxAttempts: 5 });
    transport.enqueue(R503, R503, R503);
    await expect(client.hereNow({ channels: ['a'] })).rejects.toBeInstanceOf(PresenceApiError);
    expect(transport.requests).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(budget.tokens).toBe(2);
  });

  it('refunds a first-try success only', async () => {
    const budget = retryBudget({ capacity: 100 });
    const { transport, client } = setup({ budget });
    transport.enqueue(R503);
    await client.hereNow({ channels: ['a'] });
    expect(budget.tokens).toBe(95);
    await client.hereNow({ channels: ['a'] });
    expect(budget.tokens).toBe(96);
  });

  it('is per plugin by default, shared when passed', () => {
    expect(retry().budget).not.toBe(retry().budget);
    const shared = retryBudget();
    expect(retry({ budget: shared }).budget).toBe(shared);
  });
});

describe('retry: options', () => {
  it.each([
    ['maxAttempts', 0],
    ['maxAttempts', 2.5],
    ['maxAttempts', '3'],
    ['baseDelayMs', -1],
    ['baseDelayMs', Number.POSITIVE_INFINITY],
    ['maxDelayMs', Number.NaN],
    ['budget', {}],
    ['random', 0.5],
    ['maxAttempt', 3],
    ['retries', 3],
  ])('refuses %s = %s, naming the field', (field, value) => {
    let error: unknown;
    try {
      retry({ [field]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PresenceConfigurationError);
    expect((error as PresenceConfigurationError).field).toBe(`retry.${field}`);
  });

  it('refuses maxDelayMs below baseDelayMs', () => {
    expect(() => retry({ baseDelayMs: 100, maxDelayMs: 50 })).toThrow(/maxDelayMs/);
  });

  it('sits outermost in the finalize step', () => {
    const { client } = setup();
    const names = client.stack.list().map((m) => m.name);
    expect(names.indexOf('retry')).toBeLessThan(names.indexOf('commonParams'));
    expect(client.stack.list().find((m) => m.name === 'retry')).toEqual({ name: 'retry', step: 'finalize', priority: 100 });
  });
});

describe('retry and watch(): long-polls are the watch loop\'s to reconnect, within the same budget', () => {
  it('installs its budget on the stack and never retries a subscribe long-poll itself', async () => {
    const { transport, client, plugin, retries } = setup();
    expect(client.stack.retryBudget).toBe(plugin.budget);
    transport.enqueue({ body: { t: { t: '10', r: 1 }, m: [] } }, R503);
    const watch = client.watch({ channels: ['lobby'], reconnect: { baseDelayMs: 1, maxDelayMs: 5 } });
    const reconnects: PresenceEventMap['watchReconnect'][] = [];
    client.events.on('watchReconnect', (e) => {
      reconnects.push(e);
      void watch.return();
    });
    await watch.next();
    expect(retries).toEqual([]);
    expect(transport.requests.filter((r) => r.operation === 'subscribe')).toHaveLength(2);
    expect(reconnects).toMatchObject([{ reason: 'server_error', attempt: 1 }]);
  });

  it('each reconnect takes tokens; an empty budget ends the watch with the last error', async () => {
    const budget = retryBudget({ capacity: 12, retryCost: 5, successRefund: 0 });
    const { transport, client } = setup({ budget });
    transport.enqueue({ body: { t: { t: '10', r: 1 }, m: [] } });
    // Every later request fails: two reconnects fit in 12 tokens, the third is refused.
    const fail: ScriptedResponse = { status: 500, body: apiBody(500) };
    transport.enqueue(fail, fail, fail, fail, fail, fail, fail);
    const reconnects: PresenceEventMap['watchReconnect'][] = [];
    client.events.on('watchReconnect', (e) => reconnects.push(e));
    const error = await client.watch({ channels: ['lobby'], reconnect: { baseDelayMs: 1, maxDelayMs: 5 } }).next().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PresenceApiError);
    expect(reconnects.map((r) => r.attempt)).toEqual([1, 2]);
    expect(budget.tokens).toBe(2);
  });
});
