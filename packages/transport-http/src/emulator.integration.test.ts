import { createPresence, PresenceApiError, type PresenceClient } from '@presence/core';
import { createEmulator, type Emulator } from '@presence/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpTransport, type HttpTransport } from './http-transport.js';
import { retry } from './retry.js';
import { retryBudget } from './retry-budget.js';

const SECRET_KEY = 'emulator-secret';
const PUBLISH_KEY = 'pub-c-test';

describe.each([
  ['unsigned', {}],
  ['signed', { secretKey: SECRET_KEY, publishKey: PUBLISH_KEY }],
] as const)('against the emulator over loopback, %s', (_mode, keys) => {
  let emulator: Emulator;
  const clients: Array<{ client: PresenceClient; transport: HttpTransport }> = [];
  const connect = (userId: string, secretKey?: string) => {
    const transport = httpTransport({ origin: emulator.origin });
    const client = createPresence({
      subscribeKey: 'sub-c-test',
      publishKey: PUBLISH_KEY,
      userId,
      ...(secretKey ? { secretKey } : {}),
      transport,
      plugins: [retry({ baseDelayMs: 1 })],
      timeoutMs: 2000,
    });
    clients.push({ client, transport });
    return client;
  };

  beforeAll(async () => {
    emulator = await createEmulator(keys);
  });
  afterEach(async () => {
    for (const { client, transport } of clients.splice(0)) {
      await client.close();
      expect(Object.keys(transport.agent.sockets)).toEqual([]);
      expect(Object.keys(transport.agent.freeSockets)).toEqual([]);
    }
    emulator.reset();
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('runs every operation end to end', async () => {
    const secret = 'secretKey' in keys ? keys.secretKey : undefined;
    const alice = connect('alice', secret);
    const bob = connect('bob#1', secret);
    const rooms = ['lobby', 'café~1(x)'];

    await alice.heartbeat({ channels: rooms, heartbeat: 60 });
    await bob.heartbeat({ channels: ['lobby'], heartbeat: 60, state: { lobby: { mood: 'sleepy' } } });
    const set = await alice.setPresenceState({ channels: ['lobby'], state: { mood: 'happy', n: 1 } });
    expect(set.state).toEqual({ mood: 'happy', n: 1 });

    const here = await alice.hereNow({ channels: rooms, includeState: true });
    expect(here.totalOccupancy).toBe(3);
    const lobby = here.channels.find((c) => c.name === 'lobby')!;
    expect([...lobby.occupants].sort((a, b) => a.userId.localeCompare(b.userId))).toEqual([
      { userId: 'alice', state: { mood: 'happy', n: 1 } },
      { userId: 'bob#1', state: { mood: 'sleepy' } },
    ]);
    expect(here.channels.find((c) => c.name === 'café~1(x)')!.occupants).toEqual([{ userId: 'alice' }]);

    expect([...(await bob.whereNow({ userId: 'alice' })).channels].sort()).toEqual([...rooms].sort());
    const state = await bob.getPresenceState({ channels: ['lobby'], userId: 'alice' });
    expect(state.state).toEqual([{ channelName: 'lobby', state: { mood: 'happy', n: 1 } }]);

    await alice.leave({ channels: rooms });
    expect((await bob.hereNow({ channels: rooms })).totalOccupancy).toBe(1);

    const stats = emulator.stats();
    for (const operation of ['hereNow', 'whereNow', 'getPresenceState', 'setPresenceState', 'heartbeat', 'leave'] as const) {
      expect(stats.requests.byOperation[operation], operation).toBeGreaterThan(0);
    }
    expect(stats.signatureFailures).toBe(0);
  });

  // Registered only where it applies, so the run shows no skipped tests.
  if ('secretKey' in keys) it('a wrong secret key gets a 403 PresenceApiError, not retried', async () => {
    const mallory = connect('mallory', 'not-the-secret');
    const attempts: number[] = [];
    mallory.events.on('attempt', (e) => attempts.push(e.attempt));
    const error = await mallory.hereNow({ channels: ['lobby'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PresenceApiError);
    expect(error).toMatchObject({ status: 403, retryable: false });
    expect(attempts).toEqual([1]);
    expect(emulator.stats().signatureFailures).toBe(1);
    expect(JSON.stringify((error as PresenceApiError).toJSON())).not.toContain('not-the-secret');
  });

  if (!('secretKey' in keys)) it('a client that signs is still accepted by an emulator that does not check', async () => {
    const signed = connect('carol', 'any-secret');
    await signed.heartbeat({ channels: ['lobby'] });
    expect((await signed.hereNow({ channels: ['lobby'] })).totalOccupancy).toBe(1);
  });
});

describe('retry budget against an always-503 emulator', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await createEmulator({ faults: [{ operation: 'hereNow', response: '503' }] });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('10,000 calls make at most 10,100 attempts', async () => {
    const budget = retryBudget();
    const transport = httpTransport({ origin: emulator.origin });
    const client = createPresence({
      subscribeKey: 'sub-c-test',
      userId: 'load',
      transport,
      plugins: [retry({ maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 1, budget })],
      timeoutMs: 60_000, // a batch of 200 must never meet its deadline on a busy machine: the count is the point
    });
    let failures = 0;
    for (let batch = 0; batch < 50; batch++) {
      const results = await Promise.allSettled(Array.from({ length: 200 }, () => client.hereNow({ channels: ['lobby'] })));
      for (const result of results) {
        if (result.status === 'rejected' && result.reason instanceof PresenceApiError && result.reason.status === 503) failures++;
      }
    }
    await client.close();
    expect(failures).toBe(10_000);
    const attempts = emulator.stats().requests.byOperation.hereNow;
    expect(attempts).toBeGreaterThanOrEqual(10_000);
    expect(attempts).toBeLessThanOrEqual(10_100);
    // Without a budget the same outage would have cost 30,000 attempts; the budget allowed exactly 100 retries.
    expect(attempts).toBe(10_100);
    expect(budget.tokens).toBe(0);
  }, 180_000); // 10,000 real HTTP calls: seconds when quiet, minutes on a loaded machine
});
