import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  cacheKeyOf,
  createMemoryStore,
  createPresence,
  createSingleFlight,
  hereNow,
  jsonValues,
  memoryCache,
  PresenceAbortError,
  type PresenceEventMap,
  type ResolvedConfig,
} from '../index.js';
import { createMemoryTransport, type ScriptedResponse } from '../testing.js';

const lobby = (uuids: string[]): ScriptedResponse => ({
  body: { status: 200, message: 'OK', service: 'Presence', occupancy: uuids.length, uuids },
});

function setup(options: { ttlMs?: number; delayMs?: number; now?: () => number } = {}) {
  let occupants = ['kim'];
  const transport = createMemoryTransport({
    respond: (req) => (req.operation === 'hereNow' ? { ...lobby(occupants), delayMs: options.delayMs ?? 5 } : { body: { status: 200, message: 'OK', service: 'Presence' } }),
  });
  const cache = memoryCache({ ttlMs: options.ttlMs ?? 3000, now: options.now });
  const presence = createPresence({ subscribeKey: 'sub', userId: 'me', transport, plugins: [cache] });
  const results: PresenceEventMap['cache']['result'][] = [];
  presence.events.on('cache', (e) => results.push(e.result));
  const upstream = () => transport.requests.filter((r) => r.operation === 'hereNow').length;
  return { presence, transport, cache, results, upstream, setOccupants: (next: string[]) => (occupants = next) };
}

describe('memoryCache', () => {
  test('refuses an unknown option, naming the closest known one', () => {
    expect(() => memoryCache({ ttl: 10 } as never)).toThrow(expect.objectContaining({ code: 'configuration_error', field: 'memoryCache.ttl', message: expect.stringContaining('Did you mean "ttlMs"?') }));
  });

  test('1,000 concurrent identical hereNow calls make one upstream request', async () => {
    const { presence, upstream, results } = setup({ delayMs: 20 });
    const all = await Promise.all(Array.from({ length: 1000 }, () => presence.hereNow({ channels: ['lobby'] })));
    expect(upstream()).toBe(1);
    expect(new Set(all).size).toBe(1);
    expect(results.filter((r) => r === 'miss')).toHaveLength(1);
    expect(results.filter((r) => r === 'coalesced')).toHaveLength(999);
  });

  test('repeats within the TTL are served from memory; after it, upstream again', async () => {
    let now = 0;
    const { presence, upstream, results } = setup({ ttlMs: 3000, now: () => now });
    await presence.hereNow({ channels: ['lobby'] });
    now = 2999;
    await presence.hereNow({ channels: ['lobby'] });
    expect(upstream()).toBe(1);
    now = 3000;
    await presence.hereNow({ channels: ['lobby'] });
    expect(upstream()).toBe(2);
    expect(results).toEqual(['miss', 'hit_l1', 'miss']);
  });

  test("each call's callEnd says how the cache answered it, the failed miss included; calls the cache skips say nothing", async () => {
    let fail = false;
    const transport = createMemoryTransport({
      respond: (req): ScriptedResponse => (fail && req.operation === 'hereNow' ? { status: 503, body: { status: 503, message: 'down', service: 'Presence', error: true } } : req.operation === 'hereNow' ? { ...lobby(['kim']), delayMs: 5 } : { body: { status: 200, message: 'OK', service: 'Presence' } }),
    });
    const presence = createPresence({ subscribeKey: 'sub', userId: 'me', transport, plugins: [memoryCache()] });
    const ends: PresenceEventMap['callEnd'][] = [];
    presence.events.on('callEnd', (e) => ends.push(e));
    await Promise.all([presence.hereNow({ channels: ['lobby'] }), presence.hereNow({ channels: ['lobby'] })]);
    await presence.hereNow({ channels: ['lobby'] });
    await presence.whereNow({ userId: 'kim' });
    fail = true;
    await expect(presence.hereNow({ channels: ['elsewhere'] })).rejects.toThrow(/down/);
    expect(ends.map((e) => [e.operation, e.outcome, e.cache])).toEqual([
      ['hereNow', 'success', 'miss'],
      ['hereNow', 'success', 'coalesced'],
      ['hereNow', 'success', 'hit_l1'],
      ['whereNow', 'success', undefined],
      ['hereNow', 'api_error', 'miss'],
    ]);
  });

  test('different questions are different entries; the same question in another order is the same', async () => {
    const { presence, upstream } = setup();
    await presence.hereNow({ channels: ['a', 'b'] }).catch(() => undefined);
    await presence.hereNow({ channels: ['lobby'] });
    await presence.hereNow({ channels: ['lobby'], includeState: true });
    await presence.hereNow({ channels: ['lobby'], limit: 10 });
    await presence.hereNow({ channels: ['lobby'] });
    expect(upstream()).toBe(4);
  });

  test('cached results are frozen so one caller cannot change what another reads', async () => {
    const { presence } = setup();
    const result = await presence.hereNow({ channels: ['lobby'] });
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.channels[0]!.occupants)).toBe(true);
    expect(() => (result.channels as unknown[]).push(1)).toThrow(TypeError);
  });

  test('errors are never cached', async () => {
    const { presence, transport, upstream } = setup();
    transport.enqueue({ status: 503, body: { status: 503, error: 1, message: 'Service Unavailable', service: 'Presence' } });
    await expect(presence.hereNow({ channels: ['lobby'] })).rejects.toMatchObject({ status: 503 });
    await expect(presence.hereNow({ channels: ['lobby'] })).resolves.toMatchObject({ totalOccupancy: 1 });
    expect(upstream()).toBe(2);
  });

  test('setPresenceState, leave and heartbeat with state drop the answers they make stale', async () => {
    const { presence, upstream, setOccupants } = setup();
    await presence.hereNow({ channels: ['lobby'] });
    await presence.hereNow({ channelGroups: ['g'] }).catch(() => undefined);
    setOccupants(['kim', 'lee']);
    await presence.heartbeat({ channels: ['lobby'] }); // no state: here-now with uuids unchanged by design
    expect((await presence.hereNow({ channels: ['lobby'] })).totalOccupancy).toBe(1);
    await presence.heartbeat({ channels: ['lobby'], state: { lobby: { mood: 'ok' } } });
    expect((await presence.hereNow({ channels: ['lobby'] })).totalOccupancy).toBe(2);
    await presence.setPresenceState({ channels: ['other'], state: {} }).catch(() => undefined);
    await presence.hereNow({ channels: ['lobby'] });
    const before = upstream();
    await presence.leave({ channels: ['lobby'] });
    await presence.hereNow({ channels: ['lobby'] });
    expect(upstream()).toBe(before + 1);
  });

  test('one caller aborting does not fail the others sharing its flight', async () => {
    const { presence, upstream } = setup({ delayMs: 30 });
    const controller = new AbortController();
    const first = presence.hereNow({ channels: ['lobby'] }, { signal: controller.signal });
    const second = presence.hereNow({ channels: ['lobby'] });
    controller.abort();
    await expect(first).rejects.toBeInstanceOf(PresenceAbortError);
    await expect(second).resolves.toMatchObject({ totalOccupancy: 1 });
    expect(upstream()).toBe(1);
    // and the answer was cached for the next caller
    await presence.hereNow({ channels: ['lobby'] });
    expect(upstream()).toBe(1);
  });

  test('options are validated', () => {
    expect(() => memoryCache({ ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => memoryCache({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});

describe('single-flight', () => {
  test('callers share one promise; the flight is not tied to any caller and makes no signal unless asked', async () => {
    const flights = createSingleFlight<string>();
    let scope: { signal: AbortSignal } | undefined;
    const one = flights.run('k', { timeoutMs: 1000, operation: 'hereNow' }, async (flight) => {
      scope = flight;
      return 'v';
    });
    const two = flights.run('k', { timeoutMs: 1000, operation: 'hereNow' }, async () => 'other');
    expect([one.leader, two.leader]).toEqual([true, false]);
    expect(two.promise).toBe(one.promise);
    await expect(two.promise).resolves.toBe('v');
    expect(flights.size).toBe(0);
    expect(scope!.signal.aborted).toBe(false);
  });

  test('a flight has its own deadline', async () => {
    const flights = createSingleFlight<string>();
    const { promise } = flights.run('k', { timeoutMs: 20, operation: 'hereNow' }, ({ signal }) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    await expect(promise).rejects.toMatchObject({ code: 'timeout' });
  });

  test("a flight's deadline reaches onCancel listeners, with no signal made; a listener can stop, and one added late hears at once", async () => {
    const flights = createSingleFlight<string>();
    const heard: string[] = [];
    const { promise } = flights.run('k', { timeoutMs: 20, operation: 'hereNow' }, (flight) =>
      new Promise((_, reject) => {
        const stop = flight.onCancel(() => heard.push('stopped one'));
        stop();
        flight.onCancel((reason) => {
          heard.push(`first: ${reason.name}`);
          flight.onCancel((late) => heard.push(`late: ${late.name}`));
          reject(reason);
        });
      }),
    );
    await expect(promise).rejects.toMatchObject({ code: 'timeout' });
    expect(heard).toEqual(['first: PresenceTimeoutError', 'late: PresenceTimeoutError']);
  });

  test('onCancel after the flight deadline has already passed (the work was slow to get there) hears at once', async () => {
    const flights = createSingleFlight<string>();
    const { promise } = flights.run('k', { timeoutMs: 10, operation: 'hereNow' }, async (flight) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return new Promise((_, reject) => flight.onCancel(reject));
    });
    await expect(promise).rejects.toMatchObject({ code: 'timeout' });
    expect(flights.size).toBe(0);
  });
});

describe('the memory store', () => {
  test('evicts the least recently used beyond maxEntries', () => {
    const store = createMemoryStore<number>({ maxEntries: 2 });
    void store.set('a', 1, { ttlMs: 1000, tags: ['t'] });
    void store.set('b', 2, { ttlMs: 1000, tags: ['t'] });
    void store.get('a'); // a read makes 'a' the most recently used
    void store.set('c', 3, { ttlMs: 1000, tags: ['t'] });
    expect([store.get('a'), store.get('b'), store.get('c')]).toEqual([1, undefined, 3]);
    expect(store.size).toBe(2);
    expect(store.invalidate(['t'])).toBe(2);
    expect(store.size).toBe(0);
  });
});

describe('canonical cache keys', () => {
  const config = (authKey?: string) => {
    const presence = createPresence({ subscribeKey: 'sub', userId: 'me', transport: createMemoryTransport({ origin: 'https://ps.pndsn.com' }), ...(authKey ? { authKey } : {}) });
    return presence.config as ResolvedConfig;
  };
  const keyOf = (cfg: ResolvedConfig, input: Parameters<typeof hereNow.prepare>[0]) => cacheKeyOf(hereNow, hereNow.prepare(input, cfg), cfg)!;

  test('property: order and repeats of channels and groups never change the key', () => {
    const cfg = config();
    const name = fc.stringMatching(/^[a-z0-9_.~-]{1,12}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 6 }), fc.uniqueArray(name.filter((n) => !n.includes('.')), { maxLength: 3 }), fc.integer({ min: 0, max: 1000 }), (channels, groups, limit) => {
        const a = keyOf(cfg, { channels, channelGroups: groups, limit });
        const b = keyOf(cfg, { channels: [...channels].reverse().concat(channels[0]!), channelGroups: [...groups].reverse(), limit });
        expect(a).toBe(b);
      }),
      { numRuns: 200 },
    );
  });

  test('property: different questions give different keys', () => {
    const cfg = config();
    const name = fc.stringMatching(/^[a-z|=&%,]{1,6}$/).filter((n) => !/[,]/.test(n));
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 3 }), fc.uniqueArray(name, { minLength: 1, maxLength: 3 }), (x, y) => {
        fc.pre([...x].sort().join() !== [...y].sort().join());
        expect(keyOf(cfg, { channels: x })).not.toBe(keyOf(cfg, { channels: y }));
        expect(keyOf(cfg, { channels: x })).not.toBe(keyOf(cfg, { channelGroups: x.filter((n) => !n.includes('.')) }));
      }),
      { numRuns: 200 },
    );
  });

  test('every flag, the origin, the subscribe key and the auth key partition the key; the raw auth key never appears', () => {
    const base = keyOf(config(), { channels: ['a'] });
    const variants = [
      keyOf(config(), { channels: ['a'], includeState: true }),
      keyOf(config(), { channels: ['a'], includeUserIds: false }),
      keyOf(config(), { channels: ['a'], limit: 5 }),
      keyOf(config(), { channels: ['a'], offset: 5 }),
      keyOf(config('k1-SENTINEL'), { channels: ['a'] }),
      keyOf(config('k2-SENTINEL'), { channels: ['a'] }),
    ];
    expect(new Set([base, ...variants]).size).toBe(7);
    expect(variants.join()).not.toContain('SENTINEL');
    expect(base).toMatch(/^hereNow\|[\w-]{16}\|a\|\|false,true,1000,0$/);
    const otherOrigin = createPresence({ subscribeKey: 'sub', userId: 'me', transport: createMemoryTransport({ origin: 'https://other.example' }) }).config as ResolvedConfig;
    const otherKey = createPresence({ subscribeKey: 'sub2', userId: 'me', transport: createMemoryTransport({ origin: 'https://ps.pndsn.com' }) }).config as ResolvedConfig;
    expect(new Set([base, keyOf(otherOrigin, { channels: ['a'] }), keyOf(otherKey, { channels: ['a'] })]).size).toBe(3);
  });

  test("the serializer's id partitions the key: clients that decode state differently never share an answer", () => {
    const withSerializer = (id: string) =>
      createPresence({ subscribeKey: 'sub', userId: 'me', transport: createMemoryTransport({ origin: 'https://ps.pndsn.com' }), serializer: { ...jsonValues(), id } }).config as ResolvedConfig;
    const plain = keyOf(config(), { channels: ['a'] });
    const sameId = keyOf(withSerializer(jsonValues().id), { channels: ['a'] });
    const typed = keyOf(withSerializer('json:mood-v2'), { channels: ['a'] });
    const other = keyOf(withSerializer('bytes'), { channels: ['a'] });
    expect(sameId).toBe(plain);
    expect(new Set([plain, typed, other]).size).toBe(3);
  });

  describe('{ fresh: true }: the cache steps aside', () => {
    test('upstream answers even when a cached answer is there, and that answer is kept for the next caller', async () => {
      const { presence, upstream, setOccupants, results } = setup();
      expect((await presence.hereNow({ channels: ['lobby'] })).channels[0]!.occupants).toEqual([{ userId: 'kim' }]);
      setOccupants(['kim', 'lee']);
      const fresh = await presence.hereNow({ channels: ['lobby'] }, { fresh: true });
      expect(fresh.channels[0]!.occupants).toEqual([{ userId: 'kim' }, { userId: 'lee' }]);
      expect(upstream()).toBe(2);
      expect(Object.isFrozen(fresh)).toBe(true);
      // The fresh answer replaced the stale one.
      expect(await presence.hereNow({ channels: ['lobby'] })).toBe(fresh);
      expect(upstream()).toBe(2);
      expect(results).toEqual(['miss', 'hit_l1']);
    });

    test('a fresh call does not join a flight already in the air', async () => {
      const { presence, upstream } = setup({ delayMs: 30 });
      const shared = presence.hereNow({ channels: ['lobby'] });
      const fresh = presence.hereNow({ channels: ['lobby'] }, { fresh: true });
      await Promise.all([shared, fresh]);
      expect(upstream()).toBe(2);
    });

    test('fresh must be a boolean', async () => {
      const { presence, upstream } = setup();
      await expect(presence.hereNow({ channels: ['lobby'] }, { fresh: 'yes' as never })).rejects.toMatchObject({ code: 'validation_error', field: 'fresh' });
      expect(upstream()).toBe(0);
    });
  });
});
