// One replica of a fleet (built packages), run as a child process by sections/fleet.ts. IPC:
// `{ channels, concurrency }` runs that many concurrent here-now calls per channel and answers
// `{ failed }`; `'close'` closes the client and exits.
import { createPresence, memoryCache, type Plugin } from '@presence/core';
import { redisCache } from '@presence/cache-redis';
import { httpTransport } from '@presence/transport-http';
import { Redis } from 'ioredis';

export type FleetMode = 'fleet' | 'no-lock' | 'memory';

const mode = process.env.FLEET_MODE as FleetMode;
const ttlMs = Number(process.env.FLEET_TTL_MS);
const redis = mode === 'memory' ? undefined : new Redis(process.env.FLEET_REDIS_URL!, { maxRetriesPerRequest: 1 });
redis?.on('error', () => {});
const plugins: Plugin[] = mode === 'memory'
  ? [memoryCache({ ttlMs })]
  : [redisCache({ redis: redis!, ttlMs, jitter: 0, commandTimeoutMs: 200, ...(mode === 'no-lock' ? { lock: false } : {}) })];
// Each mode its own subscribe key: the modes share one Redis without sharing values.
const client = createPresence({ subscribeKey: `sub-c-${mode}`, userId: `worker-${process.pid}`, transport: httpTransport({ origin: process.env.FLEET_ORIGIN! }), plugins });

process.on('message', async (command: 'close' | { channels: string[]; concurrency: number }) => {
  if (command === 'close') {
    await client.close();
    redis?.disconnect();
    process.disconnect();
    return;
  }
  const failed: string[] = [];
  await Promise.all(
    command.channels.flatMap((channel) =>
      Array.from({ length: command.concurrency }, () => client.hereNow({ channels: [channel] }).catch((error: Error) => void failed.push(`${error.name}: ${error.message}`))),
    ),
  );
  process.send!({ failed });
});
await redis?.ping().catch(() => {});
process.send!('ready');
