import { createEmulator, type Emulator } from '@presence/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type FleetWorker } from '../test/fleet.js';
import { sleep } from '../test/helpers.js';
import { startRedisServer, type RedisServer } from './testing.js';

// Real child processes, a real redis-server and the emulator over loopback: upstream requests are counted by the emulator.
let server: RedisServer;
let emulator: Emulator;
const workers: FleetWorker[] = [];

beforeAll(async () => {
  [server, emulator] = await Promise.all([startRedisServer(), createEmulator()]);
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await emulator?.close();
  await server?.stop();
});

const hereNowRequests = (): number => emulator.stats().requests.byOperation.hereNow;

describe('redisCache across a fleet of child processes', () => {
  it('4 processes × 50 concurrent identical calls, over several windows: exactly 1 upstream request per key per window', async () => {
    // Each window asks new questions, so it starts cold by construction, not by waiting for entries
    // to expire (a wait that a busy machine can make too short). The TTL is far longer than any
    // window could take, so nothing expires within one: every extra request is the lock's fault.
    const ttlMs = 60_000;
    const started = await Promise.all(Array.from({ length: 4 }, () => startWorker({ origin: emulator.origin, redisUrl: server.url, mode: 'fleet', ttlMs })));
    workers.push(...started);
    const perWindow: number[] = [];
    const keys = 3;
    for (let window = 0; window < 3; window++) {
      const channels = Array.from({ length: keys }, (_, i) => `room-${window}-${i}`);
      const before = hereNowRequests();
      const windowStart = performance.now();
      // Two bursts per window: the second must be answered from L1 or L2.
      for (let burst = 0; burst < 2; burst++) {
        const replies = await Promise.all(started.map((w) => w.request({ type: 'burst', channels, concurrency: 50 })));
        for (const reply of replies) {
          expect(reply.failed).toEqual([]);
          expect(reply.ok).toBe(channels.length * 50);
        }
      }
      perWindow.push(hereNowRequests() - before);
      expect(performance.now() - windowStart).toBeLessThan(ttlMs);
    }
    // Exactly one per key per window: ≤ from the fleet lock, ≥ because each window starts cold.
    expect(perWindow).toEqual(perWindow.map(() => keys));
    const totals = (await Promise.all(started.map((w) => w.request({ type: 'burst', channels: [], concurrency: 0 })))).map((r) => r.cache);
    const coalesced = totals.reduce((sum, c) => sum + (c.coalesced ?? 0), 0);
    expect(coalesced).toBeGreaterThan(0);
    await Promise.all(started.map((w) => w.close()));
    workers.length = 0;
  }, 120_000);

  it('after setPresenceState in process A, process B sees the new state at once (over the bus, not by expiry)', async () => {
    emulator.reset();
    // TTLs of a minute, in L2 and in B's L1: only the invalidation can explain B seeing the change.
    const ttlMs = 60_000;
    const [a, b] = await Promise.all([
      startWorker({ origin: emulator.origin, redisUrl: server.url, mode: 'fleet', ttlMs, l1TtlMs: ttlMs, userId: 'user-a' }),
      startWorker({ origin: emulator.origin, redisUrl: server.url, mode: 'fleet', ttlMs, l1TtlMs: ttlMs, userId: 'user-b' }),
    ]);
    workers.push(a, b);
    expect((await a.request({ type: 'heartbeat', channel: 'room' })).failed).toEqual([]);
    type Seen = { channels: Array<{ occupants: Array<{ userId: string; state?: Record<string, string> }> }> };
    const moodSeenByB = async (): Promise<string | undefined> => {
      const reply = await b.request({ type: 'hereNow', channel: 'room', includeState: true });
      expect(reply.failed).toEqual([]);
      return (reply.results as Seen).channels[0]!.occupants.find((o) => o.userId === 'user-a')?.state?.mood;
    };
    await a.request({ type: 'setState', channel: 'room', state: { mood: 'calm' } });
    expect(await moodSeenByB()).toBe('calm');
    expect(await moodSeenByB()).toBe('calm'); // cached now, in B's L1 and in Redis
    const upstreamBefore = hereNowRequests();
    expect((await b.request({ type: 'hereNow', channel: 'room', includeState: true })).cache.hit_l1).toBeGreaterThan(0);
    expect(hereNowRequests()).toBe(upstreamBefore);

    const set = await a.request({ type: 'setState', channel: 'room', state: { mood: 'happy' } });
    expect(set.failed).toEqual([]);
    const changed = performance.now();
    let mood: string | undefined;
    while ((mood = await moodSeenByB()) !== 'happy' && performance.now() - changed < 10_000) await sleep(2);
    const elapsed = performance.now() - changed;
    expect(mood).toBe('happy');
    // Typically a few ms; bounded far below the TTLs, with room for a busy machine.
    expect(elapsed).toBeLessThan(10_000);
  }, 120_000);
});
