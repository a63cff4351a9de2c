// The sides both metrics benchmarks measure (metrics-cost: CPU time; metrics-instructions:
// instructions), built one way for both, in the child process that runs a side.
import type { Server } from 'node:http';
import { createPresence, memoryCache, type JsonValue, type Plugin, type PresenceClient } from '@presence/core';
import { createMemoryTransport } from '@presence/core/testing';
import { prometheusMetrics } from '@presence/metrics-prometheus';
import { json } from '@presence/serializer';
import { httpTransport, retry } from '@presence/transport-http';
import { Registry } from 'prom-client';
import { createService } from '../src/server.js';
import { staticLiveEvents } from '../test/support/static-live.js';

export const SUBSCRIBE_KEY = 'sub-c-bench';

/** This side's registry, and the plugin on it when the side is the metrics side (BENCH_METRICS=1). */
export function sideMetrics(): { registry: Registry; metrics: Plugin[] } {
  const registry = new Registry();
  return { registry, metrics: process.env.BENCH_METRICS === '1' ? [prometheusMetrics({ registry })] : [] };
}

/**
 * One service as apps/example/src/app.ts builds a replica (retry(), the json() serializer, the
 * HTTP transport to BENCH_ORIGIN; memoryCache() when BENCH_CACHE=1), not yet listening.
 */
export function replicaService(options: { timeoutMs?: number } = {}): { presence: PresenceClient<JsonValue>; server: Server } {
  const { registry, metrics } = sideMetrics();
  const cache: Plugin[] = process.env.BENCH_CACHE === '1' ? [memoryCache({ ttlMs: 3_600_000 })] : [];
  const presence = createPresence<JsonValue>({
    subscribeKey: SUBSCRIBE_KEY,
    userId: 'bench-service',
    transport: httpTransport({ origin: process.env.BENCH_ORIGIN! }),
    serializer: json<JsonValue>({ maxBytes: 16 * 1024 }),
    plugins: [retry(), ...cache, ...metrics],
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const server = createService({ presence, registry, rooms: [], live: staticLiveEvents() });
  // The load generator leaves its connections idle between rounds and windows; a server that closed
  // them meanwhile (5 s by default) would race the next request on a reused socket (ECONNRESET).
  server.keepAliveTimeout = 10 * 60_000;
  return { presence, server };
}

/** A bare client whose cached hereNow() the `call` rows time: after the first call, every call an L1 hit. */
export function cachedCallClient(): { client: PresenceClient; hereNow: () => Promise<unknown> } {
  const { metrics } = sideMetrics();
  const transport = createMemoryTransport({ respond: () => ({ body: { status: 200, message: 'OK', service: 'Presence', occupancy: 2, uuids: ['a', 'b'] } }) });
  const client = createPresence({ subscribeKey: SUBSCRIBE_KEY, userId: 'bench', transport, plugins: [memoryCache({ ttlMs: 3_600_000 }), ...metrics] });
  const input = { channels: ['lobby'] };
  return { client, hereNow: () => client.hereNow(input) };
}
