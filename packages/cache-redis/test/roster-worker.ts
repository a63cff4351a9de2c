// One replica of a fleet sharing a roster through Redis, run as a child process by the fleet test
// and the benchmark. It takes commands over IPC and answers with what happened; it never asserts.
import { createPresence, type PresenceClient, type RosterAnswerResult } from '@presence/core';
import { httpTransport } from '@presence/transport-http';
import { Redis } from 'ioredis';
import { redisCache, redisRoster, type RedisRosterPlugin } from '../src/index.js';

export type RosterWorkerCommand =
  | { type: 'hereNow'; channels: string[]; includeState?: boolean }
  | { type: 'burst'; channels: string[]; durationMs: number; concurrency: number }
  | { type: 'status' }
  | { type: 'close' };

export type RosterWorkerReply =
  | { type: 'ready' }
  | { type: 'hereNow'; result?: unknown; answer?: RosterAnswerResult; error?: string }
  | { type: 'burst'; calls: number; errors: number; answers: Record<string, number> }
  | { type: 'status'; role: string; ready: boolean; version: number; seeds: number; leaderChanges: number; lastDiffAt: number | undefined }
  | { type: 'closed' };

const mode = process.env.ROSTER_MODE ?? 'roster'; // 'roster' | 'cache'
const channels = (process.env.ROSTER_CHANNELS ?? 'lobby').split(',');
const leaseMs = Number(process.env.ROSTER_LEASE_MS ?? 1000);
const redis = new Redis(process.env.ROSTER_REDIS_URL!, { maxRetriesPerRequest: 1 });
redis.on('error', () => {});

let live: RedisRosterPlugin | undefined;
const plugins = [];
if (mode === 'roster') plugins.push((live = redisRoster({ redis, channels, leaseMs, upstreamCacheMs: Number(process.env.ROSTER_UPSTREAM_CACHE_MS ?? 0), commandTimeoutMs: 200 })));
plugins.push(redisCache({ redis, commandTimeoutMs: 200, ttlMs: Number(process.env.ROSTER_CACHE_TTL_MS ?? 3000) }));
const client: PresenceClient = createPresence({ subscribeKey: 'sub-c-fleet', userId: `replica-${process.pid}`, transport: httpTransport({ origin: process.env.ROSTER_ORIGIN! }), plugins, timeoutMs: 5000 });

let lastAnswer: RosterAnswerResult | undefined;
const answers: Record<string, number> = {};
let seeds = 0;
let leaderChanges = 0;
let isReady = false;
let lastDiffAt: number | undefined;
client.events.on('rosterAnswer', ({ result }) => {
  lastAnswer = result;
  answers[result] = (answers[result] ?? 0) + 1;
});
client.events.on('rosterSeed', () => void seeds++);
client.events.on('rosterLeader', () => void leaderChanges++);
live?.ready.then(() => void (isReady = true), () => {});
// Diffs, stamped with this process's wall clock: the test measures event-to-visible latency with them.
if (live) {
  void (async () => {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- only the arrival of a diff matters
    for await (const _ of live.changes()) lastDiffAt = Date.now();
  })();
}

const send = (reply: RosterWorkerReply): void => void process.send!(reply);

async function run(command: RosterWorkerCommand): Promise<void> {
  switch (command.type) {
    case 'hereNow': {
      lastAnswer = undefined;
      try {
        const result = await client.hereNow({ channels: command.channels, includeState: command.includeState ?? false });
        send({ type: 'hereNow', result, ...(lastAnswer ? { answer: lastAnswer } : {}) });
      } catch (error) {
        send({ type: 'hereNow', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      }
      return;
    }
    case 'burst': {
      // As many here-now calls as `concurrency` loops can make in `durationMs`.
      let calls = 0;
      let errors = 0;
      for (const key of Object.keys(answers)) delete answers[key];
      const until = performance.now() + command.durationMs;
      await Promise.all(
        Array.from({ length: command.concurrency }, async (_, loop) => {
          let i = loop;
          while (performance.now() < until) {
            const channel = command.channels[i++ % command.channels.length]!;
            try {
              await client.hereNow({ channels: [channel] });
            } catch {
              errors++;
            }
            calls++;
            // Answers from memory resolve without I/O: yield now and then, as a server between requests does,
            // so timers (lease renewal) and Redis messages still run.
            if (calls % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
          }
        }),
      );
      send({ type: 'burst', calls, errors, answers: { ...answers } });
      return;
    }
    case 'status':
      send({ type: 'status', role: live?.role ?? 'none', ready: isReady, version: live?.version ?? 0, seeds, leaderChanges, lastDiffAt });
      return;
    case 'close':
      closing = true;
      await client.close();
      redis.disconnect();
      send({ type: 'closed' });
      process.disconnect();
      return;
  }
}

// A parent that dies without saying close (a test run killed by hand, a crash) must not leave this
// process running on its own: the IPC channel closing is the sign.
let closing = false;
process.on('disconnect', () => {
  if (!closing) process.exit(1);
});
process.on('message', (command: RosterWorkerCommand) => void run(command));
await redis.ping().catch(() => {});
send({ type: 'ready' });
