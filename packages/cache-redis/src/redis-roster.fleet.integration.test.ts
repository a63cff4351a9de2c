import { createPresence, type HereNowResult, type JsonValue, type PresenceClient } from '@presence/core';
import { createEmulator, type Emulator } from '@presence/emulator';
import { httpTransport } from '@presence/transport-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRosterWorker, type RosterWorker } from '../test/roster-fleet.js';
import { eventually, sleep } from '../test/helpers.js';
import { startRedisServer, type RedisServer } from './testing.js';

// Four real processes share one roster through a real redis-server; the emulator (in this process)
// is upstream and counts subscribe requests. The leader is SIGKILLed mid-run, then Redis is frozen.
const LEASE_MS = 1000;
const CHANNELS = ['lobby', 'kitchen', 'garden'];
let server: RedisServer;
let emulator: Emulator;
let upstream: PresenceClient;
let workers: RosterWorker[] = [];
let maxOpenLongPolls = 0;
let sampler: ReturnType<typeof setInterval> | undefined;

beforeAll(async () => {
  [server, emulator] = await Promise.all([startRedisServer(), createEmulator({ subscribeHoldMs: 1000 })]);
  upstream = createPresence({ subscribeKey: 'sub-c-fleet', userId: 'driver', transport: httpTransport({ origin: emulator.origin }) });
  // Sampled all along: never two watches open at once.
  sampler = setInterval(() => (maxOpenLongPolls = Math.max(maxOpenLongPolls, emulator.stats().subscribe.openLongPolls)), 5);
}, 60_000);

afterAll(async () => {
  if (sampler) clearInterval(sampler);
  server?.resume();
  await Promise.all(workers.map((w) => w.close()));
  await upstream?.close();
  await emulator?.close();
  await server?.stop();
});

const join = (userId: string, channel: string, state?: Record<string, string>) =>
  upstream.heartbeat({ channels: [channel], heartbeat: 300, userId, ...(state ? { state: { [channel]: state } } : {}) });
const shape = (result: HereNowResult<JsonValue>) => result.channels.map((c) => `${c.name}:${c.occupancy}:${[...c.occupants].map((o) => `${o.userId}=${JSON.stringify(o.state ?? null)}`).sort().join(',')}`);

/** Every live worker answers from its roster (a hit) exactly what the emulator says. */
async function converged(live: RosterWorker[]): Promise<boolean> {
  const truth = JSON.stringify(shape(await upstream.hereNow({ channels: CHANNELS, includeState: true })));
  for (const worker of live) {
    const reply = await worker.request<'hereNow'>({ type: 'hereNow', channels: CHANNELS, includeState: true });
    if (reply.error || reply.answer !== 'hit' || JSON.stringify(shape(reply.result as HereNowResult<JsonValue>)) !== truth) return false;
  }
  return true;
}

async function roles(live: RosterWorker[]): Promise<string[]> {
  const out: string[] = [];
  for (const worker of live) out.push((await worker.request<'status'>({ type: 'status' })).role);
  return out;
}

describe('redisRoster across 4 processes', () => {
  it('leader SIGKILLed → another takes over and the mirrors converge; Redis frozen → no caller error, answers fall through; one subscriber at a time', async () => {
    for (let i = 0; i < 8; i++) await join(`u${i}`, CHANNELS[i % 3]!, i % 2 ? { seat: String(i) } : undefined);
    workers = await Promise.all(Array.from({ length: 4 }, () => startRosterWorker({ origin: emulator.origin, redisUrl: server.url, channels: CHANNELS, leaseMs: LEASE_MS })));
    await eventually(() => converged(workers), 15_000);
    expect((await roles(workers)).filter((r) => r === 'leader')).toHaveLength(1);
    const handshakesAtStart = emulator.stats().subscribe.handshakes;

    // Churn while the leader dies.
    const leaderIndex = (await roles(workers)).indexOf('leader');
    const leader = workers[leaderIndex]!;
    const survivors = workers.filter((w) => w !== leader);
    leader.kill('SIGKILL');
    await join('late1', 'lobby', { mood: 'new' });
    await upstream.leave({ channels: ['kitchen'], userId: 'u1' });
    const takeoverMs = await eventually(async () => (await roles(survivors)).includes('leader'), LEASE_MS * 6, 20);
    const convergeMs = await eventually(() => converged(survivors), 15_000, 20);
    expect((await roles(survivors)).filter((r) => r === 'leader')).toHaveLength(1);
    const statuses = await Promise.all(survivors.map((w) => w.request<'status'>({ type: 'status' })));
    expect(statuses.reduce((sum, s) => sum + s.seeds, 0)).toBeGreaterThan(0); // the new leader re-seeded

    // Redis frozen: the leader cannot renew and stops; mirrors hear nothing; callers keep getting answers.
    server.pause();
    await sleep(LEASE_MS * 2);
    let fellThrough = 0;
    for (let round = 0; round < 3; round++) {
      for (const worker of survivors) {
        const reply = await worker.request<'hereNow'>({ type: 'hereNow', channels: ['lobby'] });
        expect(reply.error).toBeUndefined();
        expect((reply.result as HereNowResult<JsonValue>).channels[0]!.occupancy).toBeGreaterThan(0);
        if (reply.answer !== 'hit') fellThrough++;
      }
    }
    expect(fellThrough).toBe(9);
    expect(await roles(survivors)).not.toContain('leader');
    server.resume();
    await join('late2', 'garden');
    await eventually(() => converged(survivors), 20_000, 50);

    const handshakes = emulator.stats().subscribe.handshakes - handshakesAtStart;
    console.log(
      `[redisRoster fleet] takeover after SIGKILL: ${Math.round(takeoverMs)} ms (lease ${LEASE_MS} ms), ` +
        `mirrors converged ${Math.round(convergeMs)} ms after that; max watches open at once: ${maxOpenLongPolls}; handshakes after the first leader: ${handshakes}`,
    );
    expect(maxOpenLongPolls).toBe(1);
    expect(takeoverMs).toBeLessThan(LEASE_MS * 6);
  }, 120_000);
});
