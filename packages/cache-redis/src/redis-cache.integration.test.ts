import { cacheKeyOf, createPresence, hereNow, memoryCache, PresenceApiError } from '@presence/core';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTransport, type MemoryTransport } from '@presence/core/testing';
import { cachedClient, countBy, eventually, hereNowTransport, singleChannelBody, sleep, type CachedClient } from '../test/helpers.js';
import { connect, startRedisServer, type RedisServer } from './testing.js';
import { redisCache } from './redis-cache.js';

let server: RedisServer;
let redis: Redis;
const open: CachedClient[] = [];
const connections: Redis[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connect(server.port);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.client.close()));
  await redis.flushall();
});

afterAll(async () => {
  for (const c of connections) c.disconnect();
  redis?.disconnect();
  await server?.stop();
});

const subscribersOf = async (channel: string): Promise<number> => Number(((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]);

/** A second "process": its own connection, plugin and L1. */
async function peer(transport = hereNowTransport(), options: Parameters<typeof cachedClient>[2] = {}, clientOptions: Parameters<typeof cachedClient>[3] = {}) {
  const connection = await connect(server.port);
  connections.push(connection);
  // A generous command deadline: these tests check cache behaviour, not deadlines, on a busy machine.
  const made = cachedClient(connection, transport, { commandTimeoutMs: 1000, ...options }, clientOptions);
  open.push(made);
  return { ...made, transport };
}

describe('redisCache and { fresh: true }', () => {
  it('goes upstream past L1 and L2 (no lock, no shared flight) and keeps the fresh answer for both levels', async () => {
    let uuids = ['alice', 'bob'];
    const a = await peer(hereNowTransport({ uuids: () => uuids }));
    const b = await peer(hereNowTransport({ uuids: () => ['never', 'asked'] }));
    await a.client.hereNow({ channels: ['lobby'] });
    await a.cache.flush();
    uuids = ['carol'];
    const fresh = await a.client.hereNow({ channels: ['lobby'] }, { fresh: true });
    expect(fresh.channels[0]!.occupants.map((o) => o.userId)).toEqual(['carol']);
    expect(a.transport.requests).toHaveLength(2);
    await a.cache.flush();
    // Kept in L1 of this process and in L2 for the other.
    expect(await a.client.hereNow({ channels: ['lobby'] })).toBe(fresh);
    const other = await b.client.hereNow({ channels: ['lobby'] });
    expect(other.channels[0]!.occupants.map((o) => o.userId)).toEqual(['carol']);
    expect(b.transport.requests).toHaveLength(0);
    // A fresh call in the other process goes upstream too, even with L2 warm.
    await b.client.hereNow({ channels: ['lobby'] }, { fresh: true });
    expect(b.transport.requests).toHaveLength(1);
  });

  it('does not join a flight already in the air', async () => {
    const p = await peer(hereNowTransport({ delayMs: 40 }));
    await Promise.all([p.client.hereNow({ channels: ['lobby'] }), p.client.hereNow({ channels: ['lobby'] }, { fresh: true })]);
    expect(p.transport.requests).toHaveLength(2);
  });
});

describe('redisCache in one process', () => {
  it('serves 1,000 concurrent identical hereNow calls with 1 upstream request', async () => {
    const p = await peer(hereNowTransport({ delayMs: 30 }));
    const results = await Promise.all(Array.from({ length: 1000 }, () => p.client.hereNow({ channels: ['lobby'] })));
    expect(p.transport.requests).toHaveLength(1);
    expect(new Set(results).size).toBe(1);
    expect(results[0]!.channels[0]!.occupants.map((o) => o.userId)).toEqual(['alice', 'bob']);
    expect(countBy(p.cacheResults())).toEqual({ miss: 1, coalesced: 999 });
    expect(Object.isFrozen(results[0])).toBe(true);
  });

  it("each call's callEnd says how the cache answered, a caller that gave up before the fill included", async () => {
    const p = await peer(hereNowTransport({ delayMs: 120 }), {}, { timeoutMs: 60 });
    const ends: Array<{ outcome: string; cache: string | undefined }> = [];
    p.client.events.on('callEnd', (e) => ends.push({ outcome: e.outcome, cache: e.cache }));
    await expect(p.client.hereNow({ channels: ['lobby'] })).rejects.toMatchObject({ code: 'timeout' });
    // The flight had the same 60 ms deadline, so nothing was cached: a caller with time to wait misses too, then hits.
    await eventually(() => p.cacheResults().length === 1, 5000);
    await p.client.hereNow({ channels: ['lobby'] }, { timeoutMs: 5000 });
    await p.client.hereNow({ channels: ['lobby'] });
    expect(ends).toEqual([
      { outcome: 'timeout', cache: 'miss' },
      { outcome: 'success', cache: 'miss' },
      { outcome: 'success', cache: 'hit_l1' },
    ]);
  });

  it('answers from L1, then from L2 in another process, each without an upstream request', async () => {
    const a = await peer();
    const b = await peer();
    await a.client.hereNow({ channels: ['lobby'] });
    await a.client.hereNow({ channels: ['lobby'] });
    await a.cache.flush();
    const fromL2 = await b.client.hereNow({ channels: ['lobby'] });
    await b.client.hereNow({ channels: ['lobby'] });
    expect(a.transport.requests).toHaveLength(1);
    expect(b.transport.requests).toHaveLength(0);
    expect(a.cacheResults()).toEqual(['miss', 'hit_l1']);
    expect(b.cacheResults()).toEqual(['hit_l2', 'hit_l1']);
    expect(fromL2.channels[0]!.occupants.map((o) => o.userId)).toEqual(['alice', 'bob']);
  });

  it('coalesces across processes: the lock holder asks upstream, the other waits for its value', async () => {
    const a = await peer(hereNowTransport({ delayMs: 150 }));
    const b = await peer(hereNowTransport({ delayMs: 150 }));
    const first = a.client.hereNow({ channels: ['lobby'] });
    await eventually(() => a.transport.requests.length === 1, 10_000, 2); // a asks upstream: it holds the lock
    const [ra, rb] = await Promise.all([first, b.client.hereNow({ channels: ['lobby'] })]);
    expect(a.transport.requests.length + b.transport.requests.length).toBe(1);
    expect(a.cacheResults()).toEqual(['miss']);
    expect(b.cacheResults()).toEqual(['coalesced']);
    expect(rb).toEqual(ra);
  });

  it('takes over at once when the lock holder fails upstream, and never caches the error', async () => {
    const a = await peer(hereNowTransport({ delayMs: 100, status: () => 500 }));
    // b would wait 20 s for a's value: answering sooner proves it took over when a failed.
    const b = await peer(hereNowTransport({ delayMs: 10 }), { lock: { waitMs: 20_000 } });
    const failing = a.client.hereNow({ channels: ['lobby'] }).catch((e: unknown) => e);
    await eventually(() => a.transport.requests.length === 1, 10_000, 2); // a holds the lock
    const started = performance.now();
    const ok = await b.client.hereNow({ channels: ['lobby'] });
    expect(await failing).toBeInstanceOf(PresenceApiError);
    expect(performance.now() - started).toBeLessThan(10_000); // typically ~100 ms; far from the 20 s wait
    expect(b.transport.requests).toHaveLength(1);
    expect(ok.totalOccupancy).toBe(2);
    // The failure is in neither level: a's next call goes upstream again.
    await expect(a.client.hereNow({ channels: ['other'] })).rejects.toBeInstanceOf(PresenceApiError);
    await a.cache.flush();
    expect(a.transport.requests).toHaveLength(2);
    const stored = await Promise.all((await redis.keys('presence:*:v')).map((k) => redis.get(k)));
    expect(stored.every((v) => !v!.includes('Server error'))).toBe(true);
  }, 30_000);

  it('drops L1 copies in other processes over the bus; without the bus, the L1 TTL bounds staleness', async () => {
    let occupants = ['alice'];
    const upstream = hereNowTransport({ uuids: () => occupants });
    const writer = await peer(upstream);
    // Minute-long TTLs for the listener: only the bus can explain it seeing the change.
    const listening = await peer(upstream, { ttlMs: 60_000, l1: { ttlMs: 60_000 } });
    // The deaf process's L1 runs on a clock the test moves, not on the machine's speed.
    let deafClock = Date.now();
    const deaf = await peer(upstream, { ttlMs: 60_000, subscriber: false, l1: { ttlMs: 300 }, now: () => deafClock });
    await writer.client.hereNow({ channels: ['lobby'] });
    await writer.cache.flush();
    await listening.client.hereNow({ channels: ['lobby'] });
    await deaf.client.hereNow({ channels: ['lobby'] });
    expect([listening.cacheResults(), deaf.cacheResults()]).toEqual([['hit_l2'], ['hit_l2']]);
    await eventually(async () => (await subscribersOf('presence:invalidate')) >= 2, 10_000); // writer's and listener's buses are up
    occupants = ['alice', 'carol'];
    await writer.client.setPresenceState({ channels: ['lobby'], state: { mood: 'new' } });
    await eventually(async () => (await listening.client.hereNow({ channels: ['lobby'] })).totalOccupancy === 2, 10_000, 2);
    // The deaf process keeps its L1 copy until that copy's TTL runs out, then reads the new answer.
    expect((await deaf.client.hereNow({ channels: ['lobby'] })).totalOccupancy).toBe(1);
    deafClock += 299;
    expect((await deaf.client.hereNow({ channels: ['lobby'] })).totalOccupancy).toBe(1);
    deafClock += 1;
    expect((await deaf.client.hereNow({ channels: ['lobby'] })).totalOccupancy).toBe(2);
  });

  it('spreads TTLs with jitter, and keeps entries ttl + staleWhileRevalidateMs in Redis', async () => {
    const p = await peer(hereNowTransport(), { ttlMs: 10_000, jitter: 0.2, staleWhileRevalidateMs: 5000 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => p.client.hereNow({ channels: [`ch-${i}`] })));
    await p.cache.flush();
    const ttls = await Promise.all((await redis.keys('presence:*:v')).map((k) => redis.pttl(k)));
    expect(ttls).toHaveLength(20);
    expect(new Set(ttls.map((t) => Math.round(t / 10))).size).toBeGreaterThan(5);
    for (const t of ttls) {
      expect(t).toBeGreaterThan(8000 + 5000 - 1000);
      expect(t).toBeLessThanOrEqual(12_000 + 5000);
    }
  });

  it('serves a stale entry while one background refresh runs', async () => {
    let version = 0;
    const transport = hereNowTransport({ delayMs: 50, uuids: () => [`user-${++version}`] });
    // Entry ages run on the cache's own clock, moved by the test: fresh and stale do not depend on the machine's speed.
    let clock = Date.now();
    const p = await peer(transport, { ttlMs: 100, jitter: 0, l1: false, staleWhileRevalidateMs: 5000, now: () => clock });
    const first = await p.client.hereNow({ channels: ['lobby'] });
    await p.cache.flush();
    clock += 150;
    const stale = await Promise.all(Array.from({ length: 5 }, () => p.client.hereNow({ channels: ['lobby'] })));
    expect(stale.every((r) => r.channels[0]!.occupants[0]!.userId === first.channels[0]!.occupants[0]!.userId)).toBe(true);
    await p.cache.flush();
    const fresh = await p.client.hereNow({ channels: ['lobby'] });
    expect(fresh.channels[0]!.occupants[0]!.userId).toBe('user-2');
    expect(transport.requests).toHaveLength(2);
    expect(countBy(p.cacheResults())).toEqual({ miss: 1, stale: 1, coalesced: 4, hit_l2: 1 });
  });

  it('decodes an L2 value once per process: read again, the same frozen answer; rewritten, a new one', async () => {
    let occupants = ['alice'];
    const writer = await peer(hereNowTransport({ uuids: () => occupants }));
    const reader = await peer(hereNowTransport(), { l1: false });
    await writer.client.hereNow({ channels: ['lobby'] });
    await writer.cache.flush();
    const first = await reader.client.hereNow({ channels: ['lobby'] });
    const again = await reader.client.hereNow({ channels: ['lobby'] });
    expect(reader.cacheResults()).toEqual(['hit_l2', 'hit_l2']);
    expect(again).toBe(first);
    expect(Object.isFrozen(again.channels[0]!.occupants)).toBe(true);
    // A new value under the same key (here: after an invalidation and a refill) is decoded anew.
    occupants = ['alice', 'carol'];
    await writer.client.setPresenceState({ channels: ['lobby'], state: { mood: 'new' } });
    await writer.client.hereNow({ channels: ['lobby'] });
    await writer.cache.flush();
    const rewritten = await reader.client.hereNow({ channels: ['lobby'] });
    expect(reader.cacheResults()).toEqual(['hit_l2', 'hit_l2', 'hit_l2']);
    expect(rewritten.totalOccupancy).toBe(2);
    expect(reader.transport.requests).toHaveLength(0);
  });

  it('a background refresh that fails is told by a cacheRefreshFailed event, and the stale answer stays', async () => {
    let status = 200;
    const transport = hereNowTransport({ status: () => status });
    const p = await peer(transport, { ttlMs: 100, jitter: 0, l1: false, staleWhileRevalidateMs: 60_000 });
    const failures: unknown[] = [];
    p.client.events.on('cacheRefreshFailed', (event) => failures.push(event));
    const first = await p.client.hereNow({ channels: ['lobby'] });
    await p.cache.flush();
    await sleep(150);
    status = 503;
    expect(await p.client.hereNow({ channels: ['lobby'] })).toEqual(first);
    await p.cache.flush();
    expect(failures).toEqual([{ operation: 'hereNow', store: 'redis', error: expect.objectContaining({ code: 'api_error', status: 503 }) }]);
  });

  it('keeps two auth keys apart: 0 shared entries', async () => {
    const a = await peer(hereNowTransport(), {}, { authKey: 'auth-key-one' });
    const b = await peer(hereNowTransport(), {}, { authKey: 'auth-key-two' });
    await a.client.hereNow({ channels: ['lobby'] });
    await a.cache.flush();
    await b.client.hereNow({ channels: ['lobby'] });
    await b.cache.flush();
    expect(b.transport.requests).toHaveLength(1);
    expect(b.cacheResults()).toEqual(['miss']);
    expect(await redis.keys('presence:*:v')).toHaveLength(2);
    const keyA = a.cache.store.keysOf(cacheKeyOf(hereNow, hereNow.prepare({ channels: ['lobby'] }, a.client.config), a.client.config)!).value;
    const keyB = b.cache.store.keysOf(cacheKeyOf(hereNow, hereNow.prepare({ channels: ['lobby'] }, b.client.config), b.client.config)!).value;
    expect(keyA).not.toBe(keyB);
  });

  it('discards 1,000 planted corrupt values: 0 crashes, 0 served', async () => {
    // 1,000 calls at once, each with several Redis commands: a busy machine must not turn a
    // command into a timeout (fail-open, and no discard), so the deadline is generous here.
    const p = await peer(hereNowTransport(), { commandTimeoutMs: 20_000 }, { timeoutMs: 30_000 });
    const config = p.client.config;
    const garbage = (i: number): string => {
      const good = (body: unknown, header = `pc1 ${Date.now()} 60000`): string => `${header}\n${typeof body === 'string' ? body : JSON.stringify(body)}`;
      const kinds = [
        'not an envelope at all',
        good(singleBodyOf('mallory'), `pc2 ${Date.now()} 60000`), // another format version
        good(singleBodyOf('mallory'), `pc1 now 60000`),
        good(singleBodyOf('mallory'), `pc1 ${Date.now()} 0`),
        good(singleBodyOf('mallory'), `pc1 ${Date.now()}`),
        good(singleBodyOf('mallory'), `pc1 ${Date.now()} 60000 extra`),
        good({ status: 403, error: true, message: 'Forbidden', uuids: ['mallory'] }), // an error body
        good({ status: 200, occupancy: 'many', uuids: ['mallory'] }), // a bad shape
        good('{"status":200,"occupancy":1,"uuids":["mallory"'), // truncated
        JSON.stringify({ v: 1, at: Date.now(), ttl: 60_000, body: JSON.stringify(singleBodyOf('mallory')) }), // JSON, not the format
        `pc1 ${Date.now()} 60000`, // no body
        good('\u0000\uFFFF binary-ish mallory'),
      ];
      return kinds[i % kinds.length]!;
    };
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => {
        const key = cacheKeyOf(hereNow, hereNow.prepare({ channels: [`ch-${i}`] }, config), config)!;
        return redis.set(p.cache.store.keysOf(key).value, garbage(i), 'PX', 60_000);
      }),
    );
    const results = await Promise.allSettled(Array.from({ length: 1000 }, (_, i) => p.client.hereNow({ channels: [`ch-${i}`] })));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(0);
    const served = results.map((r) => (r as PromiseFulfilledResult<unknown>).value);
    expect(served.filter((r) => JSON.stringify(r).includes('mallory'))).toHaveLength(0);
    expect(p.transport.requests).toHaveLength(1000);
    expect(p.events.cacheCorrupt).toHaveLength(1000);
    await p.cache.flush();
    // Replaced by good values: a fresh process now reads them as hits.
    const q = await peer(hereNowTransport(), { commandTimeoutMs: 20_000 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => q.client.hereNow({ channels: [`ch-${i}`] })));
    expect(q.transport.requests).toHaveLength(0);
    expect(q.events.cacheCorrupt).toBeUndefined();
  }, 60_000);

  it('cannot be stacked with another cache, and validates every option by name', () => {
    const transport = hereNowTransport();
    expect(() => createPresence({ subscribeKey: 's', userId: 'u', transport, plugins: [memoryCache(), redisCache({ redis })] })).toThrow(/already/);
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ ttlMs: 0 }, /redisCache\.ttlMs/],
      [{ jitter: 1 }, /redisCache\.jitter/],
      [{ prefix: '' }, /redisCache\.prefix/],
      [{ l1: { ttlMs: -1 } }, /redisCache\.l1\.ttlMs/],
      [{ l1: { maxEntries: 1.5 } }, /redisCache\.l1\.maxEntries/],
      [{ lock: { waitMs: Number.NaN } }, /redisCache\.lock\.waitMs/],
      [{ lock: { pollMs: 0 } }, /redisCache\.lock\.pollMs/],
      [{ staleWhileRevalidateMs: -5 }, /redisCache\.staleWhileRevalidateMs/],
      [{ commandTimeoutMs: '50' }, /redisCache\.commandTimeoutMs/],
      [{ circuitBreaker: { resetMs: 0 } }, /redisCache\.circuitBreaker\.resetMs/],
      [{ subscriber: {} }, /redisCache\.subscriber/],
      [{ redis: undefined }, /redisCache\.redis/],
      [{ now: 5 }, /redisCache\.now/],
      // A misspelt option is refused, naming the closest known one (issue 16, defect 6).
      [{ ttl: 5 }, /redisCache: unknown option "ttl"\. Did you mean "ttlMs"\?/],
      [{ lock: { wait: 5 } }, /redisCache lock: unknown option "wait"\. Did you mean "waitMs"\?/],
      [{ l1: { ttl: 5 } }, /unknown option "ttl"/],
      [{ circuitBreaker: { threshold: 5 } }, /unknown option "threshold"/],
    ];
    for (const [options, field] of bad) {
      expect(() => redisCache({ redis, ...options }), JSON.stringify(options)).toThrow(field);
    }
  });
});

/**
 * Upstream for the race tests: here-now answers with `occupants()` as they are when the request
 * arrives, and the first one is then held until `release()`; setPresenceState calls `onWrite`.
 */
function heldUpstream(occupants: () => readonly string[], onWrite: () => void = () => {}) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const upstreamRead = new Promise<void>((resolve) => (reached = resolve));
  let first = true;
  const transport: MemoryTransport = createMemoryTransport({
    respond: async (request) => {
      if (request.operation === 'setPresenceState') {
        onWrite();
        return { body: { status: 200, message: 'OK', payload: {}, service: 'Presence' } };
      }
      const body = singleChannelBody(occupants()); // upstream answers now: what is true at this moment
      if (first) {
        first = false;
        reached();
        await held;
      }
      return { body };
    },
  });
  return { transport, upstreamRead, release };
}

describe('an invalidation racing a fill already in flight', () => {
  it('in the writing process: the old answer reaches only callers from before the write; never L1, L2 or a later caller', async () => {
    let occupants = ['alice'];
    const upstream = heldUpstream(() => occupants, () => (occupants = ['alice', 'carol']));
    const b = await peer(upstream.transport, { ttlMs: 60_000, l1: { ttlMs: 60_000 } });
    const c = await peer(hereNowTransport({ uuids: () => occupants }), { ttlMs: 60_000 });
    const early = b.client.hereNow({ channels: ['lobby'] });
    await upstream.upstreamRead; // b's fill has read the old answer and is held before it can store it
    await b.client.setPresenceState({ channels: ['lobby'], state: { mood: 'new' } }); // written and invalidated
    const late = b.client.hereNow({ channels: ['lobby'] }); // asked after the write: must not join the old fill
    upstream.release();
    expect((await early).totalOccupancy).toBe(1); // asked before the write: the old answer is a fair one
    expect((await late).totalOccupancy).toBe(2);
    await Promise.all([b.cache.flush(), c.cache.flush()]);
    expect((await b.client.hereNow({ channels: ['lobby'] })).totalOccupancy).toBe(2); // b's L1
    expect((await c.client.hereNow({ channels: ['lobby'] })).totalOccupancy).toBe(2); // L2, from another process
    expect(c.transport.requests).toHaveLength(0);
  });

  it('in another process: a fill begun before a write elsewhere is neither written to L2 nor kept in its L1', async () => {
    let occupants = ['alice'];
    const upstream = heldUpstream(() => occupants);
    const writer = await peer(hereNowTransport());
    const reader = await peer(upstream.transport, { ttlMs: 60_000, l1: { ttlMs: 60_000 } });
    const fresh = await peer(hereNowTransport({ uuids: () => occupants }), { ttlMs: 60_000 });
    const listener = await connect(server.port);
    connections.push(listener);
    await listener.subscribe('presence:invalidate');
    await eventually(async () => (await subscribersOf('presence:invalidate')) >= 4, 10_000);
    const heard = new Promise((resolve) => listener.once('message', resolve));
    const early = reader.client.hereNow({ channels: ['lobby'] });
    await upstream.upstreamRead;
    occupants = ['alice', 'carol']; // what the write changes upstream
    await writer.client.setPresenceState({ channels: ['lobby'], state: { mood: 'new' } });
    await heard; // the bus has carried the invalidation: the reader's fill completes after it
    upstream.release();
    expect((await early).totalOccupancy).toBe(1);
    await reader.cache.flush();
    expect((await reader.client.hereNow({ channels: ['lobby'] })).totalOccupancy).toBe(2); // not the old answer from L1
    expect((await fresh.client.hereNow({ channels: ['lobby'] })).totalOccupancy).toBe(2); // nor from L2
  });
});

function singleBodyOf(user: string): Record<string, unknown> {
  return { status: 200, message: 'OK', occupancy: 1, uuids: [user], service: 'Presence' };
}
