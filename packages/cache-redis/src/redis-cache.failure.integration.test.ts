import { startLagProbe, type LagProbe } from '@presence/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cachedClient, eventually, hereNowTransport, sleep, type CachedClient } from '../test/helpers.js';
import { connect, startRedisServer, type RedisServer } from './testing.js';

// Fail-open: Redis killed or frozen mid-run must cost a caller at most one command deadline, plus
// the guard's bounded grace (at most one more deadline, only when its timer ran late) and however
// late this busy process's own timers ran (measured, not assumed).
const COMMAND_TIMEOUT_MS = 50;
const SLACK_MS = 150;
let lag: LagProbe;
beforeEach(() => {
  lag = startLagProbe();
});
afterEach(() => lag.stop());
const bound = (baseline: number[]): number => Math.max(...baseline) + 2 * COMMAND_TIMEOUT_MS + SLACK_MS + lag.totalLagMs;

let server: RedisServer;
let redis: Redis;
let cached: CachedClient;
const transport = hereNowTransport({ delayMs: 5 });
let round = 0;

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connect(server.port);
  cached = cachedClient(redis, transport, {
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    l1: false, // every call reaches the Redis path
    circuitBreaker: { failureThreshold: 3, resetMs: 300 },
  });
});

afterAll(async () => {
  await cached?.client.close();
  redis?.disconnect();
  await server?.stop();
});

/** Runs `count` calls in batches of 5 (new questions, so each goes through L2 and the lock); returns per-call latencies. */
async function timedCalls(count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i += 5) {
    round++;
    const batch = Array.from({ length: 5 }, async (_, j) => {
      const started = performance.now();
      const result = await cached.client.hereNow({ channels: [`r${round}-${j}`] });
      latencies.push(performance.now() - started);
      return result;
    });
    // Every call settles: a call still pending after 3 s fails the test instead of hanging it.
    const settled = await Promise.race([Promise.allSettled(batch), sleep(3000).then(() => 'pending' as const)]);
    expect(settled).not.toBe('pending');
    for (const outcome of settled as PromiseSettledResult<{ totalOccupancy: number }>[]) {
      expect(outcome.status).toBe('fulfilled');
      expect((outcome as PromiseFulfilledResult<{ totalOccupancy: number }>).value.totalOccupancy).toBe(2);
    }
  }
  return latencies;
}

/** The cache works again: a value written now is read back as an L2 hit. */
async function cacheUsedAgain(): Promise<void> {
  await eventually(async () => {
    const channel = `back-${++round}`;
    const before = cached.cacheResults().length;
    await cached.client.hereNow({ channels: [channel] });
    await cached.cache.flush();
    await cached.client.hereNow({ channels: [channel] });
    return cached.cacheResults().slice(before).includes('hit_l2');
  }, 10_000, 50);
}

describe('redisCache fail-open', () => {
  it('survives SIGSTOP: calls succeed from upstream within commandTimeoutMs + slack, the circuit opens, and the cache returns after SIGCONT', async () => {
    const baseline = await timedCalls(20);
    const upstreamBefore = transport.requests.length;
    cached.events.cacheError = [];
    cached.events.circuit = [];
    server.pause();
    try {
      const paused = await timedCalls(30);
      expect(transport.requests.length - upstreamBefore).toBe(30);
      expect(Math.max(...paused)).toBeLessThan(bound(baseline));
      expect(cached.events.cacheError.some((e) => e.reason === 'timeout')).toBe(true);
      expect(cached.events.circuit).toContainEqual({ store: 'redis', open: true });
      // Background work never waits on the frozen server either.
      const flushed = await Promise.race([cached.cache.flush().then(() => 'done'), sleep(1000).then(() => 'pending')]);
      expect(flushed).toBe('done');
    } finally {
      server.resume();
    }
    await cacheUsedAgain();
    expect(cached.events.circuit.at(-1)).toEqual({ store: 'redis', open: false });
  });

  it('survives SIGKILL: calls succeed from upstream within commandTimeoutMs + slack, and the cache returns after a restart', async () => {
    await cacheUsedAgain();
    const baseline = await timedCalls(20);
    cached.events.cacheError = [];
    server.kill();
    const upstreamBefore = transport.requests.length;
    const killed = await timedCalls(30);
    expect(transport.requests.length - upstreamBefore).toBe(30);
    expect(Math.max(...killed)).toBeLessThan(bound(baseline));
    expect(cached.events.cacheError.length).toBeGreaterThan(0);
    // Which failure is seen first depends on when ioredis notices the dead socket: a refused
    // command (not ready), a socket error, a command deadline, or the open circuit after those.
    for (const e of cached.events.cacheError) expect(['not_ready', 'error', 'timeout', 'circuit_open']).toContain(e.reason);
    await server.restart();
    await cacheUsedAgain();
  });
});
