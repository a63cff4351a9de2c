import { startLagProbe } from '@presence/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandGuard, RedisUnavailableError, type RedisFailureReason } from './command-guard.js';
import { connect, startRedisServer, type RedisServer } from './testing.js';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connect(server.port);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

/** Holds the event loop, as a busy process does: timers and socket reads wait until it ends. */
const holdLoop = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

function guardOf(commandTimeoutMs: number) {
  const failures: RedisFailureReason[] = [];
  const guard = createCommandGuard({ redis, commandTimeoutMs, circuitBreaker: false, onFailure: (reason) => failures.push(reason) });
  return { guard, failures };
}

describe('command deadlines measure Redis, not this process', () => {
  it('a reply that arrived while the loop was held is taken, not judged late', async () => {
    await redis.set('guard:k', 'v');
    const { guard, failures } = guardOf(50);
    for (let i = 0; i < 5; i++) {
      const reply = guard.run((r) => r.get('guard:k'));
      // The reply lands on the socket within a millisecond or so; the loop is busy for 4 deadlines.
      holdLoop(200);
      await expect(reply).resolves.toBe('v');
    }
    expect(failures).toEqual([]);
  });

  it('a paused Redis is still skipped: timeout within the deadline, the grace and the loop lag seen', async () => {
    const { guard, failures } = guardOf(50);
    server.pause();
    try {
      // The deadline plus at most one grace (given only when the timer ran late), plus however long
      // this process was held up, measured: on a loaded machine that is most of it.
      const lag = startLagProbe();
      const started = performance.now();
      await expect(guard.run((r) => r.get('guard:k'))).rejects.toMatchObject({ constructor: RedisUnavailableError, reason: 'timeout' });
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(49);
      expect(elapsed).toBeLessThan(2 * 50 + 100 + lag.totalLagMs);

      // A loop held for four deadlines: the hold counts once as grace (capped at one more deadline),
      // and the command still ends, within the hold + the grace + margin.
      const busyStarted = performance.now();
      const pending = guard.run((r) => r.get('guard:k'));
      holdLoop(200);
      await expect(pending).rejects.toMatchObject({ reason: 'timeout' });
      expect(performance.now() - busyStarted).toBeLessThan(50 + 50 + 100 + lag.totalLagMs);
      lag.stop();
      expect(failures).toEqual(['timeout', 'timeout']);
    } finally {
      server.resume();
    }
    await expect(guard.run((r) => r.ping())).resolves.toBe('PONG');
  });
});
