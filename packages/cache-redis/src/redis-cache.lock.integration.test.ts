// The fleet-wide lock from the waiter's side: a holder that hangs or crashes never stalls the
// others, a waiter with no bus learns of the fill by polling alone, and TTLs are spread by default.
import { cacheKeyOf, hereNow, type ResolvedConfig } from '@presence/core';
import { createMemoryTransport } from '@presence/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cachedClient, hereNowTransport, singleChannelBody, type CachedClient } from '../test/helpers.js';
import { createRedisStore } from './redis-store.js';
import { connect, startRedisServer, type RedisServer } from './testing.js';

let server: RedisServer;
let redis: Redis;
const connections: Redis[] = [];
const clients: CachedClient[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connect(server.port);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.client.close()));
  for (const connection of connections.splice(0)) connection.disconnect();
  await redis.flushall();
});

afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

/** A peer on its own connection; `scripts()` counts the Lua scripts it ran (each lock attempt is one). */
async function peer(transport: Parameters<typeof cachedClient>[1], options: Parameters<typeof cachedClient>[2]): Promise<CachedClient & { scripts(): number }> {
  const connection = await connect(server.port);
  connections.push(connection);
  let scripts = 0;
  const evaluate = connection.eval.bind(connection) as (...args: unknown[]) => Promise<unknown>;
  connection.eval = ((...args: unknown[]) => {
    scripts++;
    return evaluate(...args);
  });
  const made = cachedClient(connection, transport, { commandTimeoutMs: 5000, ...options }, { timeoutMs: 60_000 });
  clients.push(made);
  return { ...made, scripts: () => scripts };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** An upstream whose answers wait until the test lets them go; `started` resolves on the first request. */
function heldUpstream() {
  let release!: () => void;
  let started!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (started = resolve));
  const transport = createMemoryTransport({
    respond: async () => {
      started();
      await held;
      return { body: singleChannelBody(['holder']) };
    },
  });
  return { transport, release, reached };
}

describe('the fleet-wide lock, from the waiter', () => {
  it('with no invalidation bus, a waiter learns of the holder’s fill by polling alone and makes no request', async () => {
    const holder = heldUpstream();
    const noBus = { subscriber: false as const, l1: false as const, lock: { ttlMs: 60_000, waitMs: 30_000, pollMs: 20 } };
    const a = await peer(holder.transport, noBus);
    const waiterUpstream = hereNowTransport();
    const b = await peer(waiterUpstream, noBus);
    const first = a.client.hereNow({ channels: ['lobby'] });
    await holder.reached; // a holds the lock and is waiting on upstream
    const second = b.client.hereNow({ channels: ['lobby'] });
    // b found the lock taken and has polled again at least once: it is waiting on a's fill.
    await until(() => b.scripts() >= 3, 'the waiter to poll');
    holder.release();
    const [x, y] = await Promise.all([first, second]);
    expect(y).toEqual(x);
    expect(waiterUpstream.requests).toHaveLength(0);
    expect(b.cacheResults()).toEqual(['coalesced']);
  });

  it('a holder that hangs: the waiter stops waiting at lock.waitMs and asks upstream itself', async () => {
    const holder = heldUpstream();
    const a = await peer(holder.transport, { l1: false, lock: { ttlMs: 60_000, waitMs: 30_000 } });
    const waiterUpstream = hereNowTransport();
    const b = await peer(waiterUpstream, { l1: false, lock: { ttlMs: 60_000, waitMs: 200, pollMs: 20 } });
    const first = a.client.hereNow({ channels: ['lobby'] });
    await holder.reached;
    // The holder's upstream is still hanging (it is released only below): b must not wait for it.
    const answer = await b.client.hereNow({ channels: ['lobby'] });
    expect(answer.channels[0]!.occupants.length).toBeGreaterThan(0);
    expect(waiterUpstream.requests).toHaveLength(1);
    expect(b.cacheResults()).toEqual(['miss']);
    holder.release();
    await first;
  });

  it('a holder that crashed (its lock never released): the waiter takes the lock once it expires, long before lock.waitMs', async () => {
    const waiterUpstream = hereNowTransport();
    const b = await peer(waiterUpstream, { l1: false, lock: { ttlMs: 60_000, waitMs: 60_000, pollMs: 20 } });
    // The crashed process took the lock for this very question, with a short TTL, and vanished.
    const config = b.client.config as ResolvedConfig;
    const key = cacheKeyOf(hereNow, hereNow.prepare({ channels: ['lobby'] }, config), config)!;
    const crashed = createRedisStore({ redis, commandTimeoutMs: 5000 });
    expect(await crashed.lockOrGet(key, 'crashed-holder', 300)).toEqual({ locked: true });
    const started = Date.now();
    await b.client.hereNow({ channels: ['lobby'] });
    // Well under waitMs (60 s): the lock's own expiry (300 ms) let the waiter in, not giving up.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(waiterUpstream.requests).toHaveLength(1);
    expect(b.cacheResults()).toEqual(['miss']);
  });
});

describe('createRedisStore options', () => {
  it('refuses an unknown option, naming the closest known one', () => {
    expect(() => createRedisStore({ redis, prefx: 'p:' } as never)).toThrow('createRedisStore: unknown option "prefx". Did you mean "prefix"?');
  });
});

describe('TTL jitter', () => {
  it('spreads TTLs by default (±10 %), so entries filled together do not expire together', async () => {
    const p = await peer(hereNowTransport(), { ttlMs: 10_000 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => p.client.hereNow({ channels: [`ch-${i}`] })));
    await p.cache.flush();
    const ttls = await Promise.all((await redis.keys('presence:*:v')).map((k) => redis.pttl(k)));
    expect(ttls).toHaveLength(20);
    expect(new Set(ttls.map((t) => Math.round(t / 10))).size).toBeGreaterThan(5);
    for (const t of ttls) {
      expect(t).toBeGreaterThan(9000 - 1000); // allowance for a slow machine between the write and the read
      expect(t).toBeLessThanOrEqual(11_000);
    }
  });
});
