// One replica of a fleet, run as a child process by the fleet tests and the benchmark.
// It takes commands over IPC and answers with what happened; it never decides what to assert.
// The packages resolve to their sources under the @presence/source condition (tests), else to
// their builds (the benchmark).
import { createPresence, memoryCache, type Plugin } from '@presence/core';
import { httpTransport } from '@presence/transport-http';
import { Redis } from 'ioredis';
import { redisCache } from '@presence/cache-redis';

export type WorkerMode = 'fleet' | 'no-lock' | 'memory';

export type WorkerCommand =
  | { type: 'burst'; channels: string[]; concurrency: number; includeState?: boolean }
  | { type: 'hereNow'; channel: string; includeState?: boolean }
  | { type: 'heartbeat'; channel: string }
  | { type: 'setState'; channel: string; state: Record<string, string> }
  | { type: 'close' };

export type WorkerReply =
  | { type: 'ready' }
  | {
      type: 'done';
      ok: number;
      failed: string[];
      results?: unknown;
      /** Cache results and cacheError reasons counted since the worker started. */
      cache: Record<string, number>;
      cacheErrors: Record<string, number>;
      /** Each call's duration in ms, in the order they settled. */
      durations: number[];
    }
  | { type: 'closed' };

const mode = (process.env.FLEET_MODE ?? 'fleet') as WorkerMode;
const ttlMs = Number(process.env.FLEET_TTL_MS ?? 3000);
const redis = process.env.FLEET_REDIS_URL ? new Redis(process.env.FLEET_REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
redis?.on('error', () => {});

const plugins: Plugin[] = [];
if (mode === 'memory') plugins.push(memoryCache({ ttlMs }));
else {
  const l1 = process.env.FLEET_L1_TTL_MS ? { l1: { ttlMs: Number(process.env.FLEET_L1_TTL_MS) } } : {};
  plugins.push(redisCache({ redis: redis!, ttlMs, jitter: 0, commandTimeoutMs: Number(process.env.FLEET_COMMAND_TIMEOUT_MS ?? 200), ...l1, ...(mode === 'no-lock' ? { lock: false } : {}) }));
}

const client = createPresence({
  subscribeKey: 'sub-c-fleet',
  userId: process.env.FLEET_USER_ID ?? `worker-${process.pid}`,
  transport: httpTransport({ origin: process.env.FLEET_ORIGIN! }),
  plugins,
});
const cache: Record<string, number> = {};
client.events.on('cache', ({ result }) => void (cache[result] = (cache[result] ?? 0) + 1));
const cacheErrors: Record<string, number> = {};
client.events.on('cacheError', ({ reason }) => void (cacheErrors[reason] = (cacheErrors[reason] ?? 0) + 1));

const send = (reply: WorkerReply): void => void process.send!(reply);

async function run(command: WorkerCommand): Promise<void> {
  const failed: string[] = [];
  const durations: number[] = [];
  let ok = 0;
  let results: unknown;
  const attempt = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    const started = performance.now();
    try {
      const value = await work();
      ok++;
      return value;
    } catch (error) {
      failed.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      return undefined;
    } finally {
      durations.push(performance.now() - started);
    }
  };
  switch (command.type) {
    case 'burst':
      await Promise.all(
        command.channels.flatMap((channel) =>
          Array.from({ length: command.concurrency }, () => attempt(() => client.hereNow({ channels: [channel], includeState: command.includeState ?? false }))),
        ),
      );
      break;
    case 'hereNow':
      results = await attempt(() => client.hereNow({ channels: [command.channel], includeState: command.includeState ?? false }));
      break;
    case 'heartbeat':
      await attempt(() => client.heartbeat({ channels: [command.channel], heartbeat: 300 }));
      break;
    case 'setState':
      await attempt(() => client.setPresenceState({ channels: [command.channel], state: command.state }));
      break;
    case 'close':
      closing = true;
      await client.close();
      redis?.disconnect();
      send({ type: 'closed' });
      process.disconnect();
      return;
  }
  send({ type: 'done', ok, failed, results, cache: { ...cache }, cacheErrors: { ...cacheErrors }, durations });
}

// A parent that dies without saying close (a test run killed by hand, a crash) must not leave this
// process running on its own: the IPC channel closing is the sign.
let closing = false;
process.on('disconnect', () => {
  if (!closing) process.exit(1);
});
process.on('message', (command: WorkerCommand) => void run(command));
await redis?.ping().catch(() => {});
send({ type: 'ready' });
