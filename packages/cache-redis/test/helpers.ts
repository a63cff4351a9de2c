import { createPresence, type JsonValue, type PresenceClient, type PresenceEventMap, type Transport } from '@presence/core';
import { createMemoryTransport, type MemoryTransport, type ScriptedResponse } from '@presence/core/testing';
import type { Redis } from 'ioredis';
import { redisCache, type RedisCacheOptions, type RedisCachePlugin } from '../src/index.js';

/** A here-now answer in the single-channel form, as the service sends it. */
export function singleChannelBody(uuids: readonly string[]): JsonValue {
  return { status: 200, message: 'OK', occupancy: uuids.length, uuids: [...uuids], service: 'Presence' };
}

/** Memory transport answering every here-now with `uuids` (or what `uuids()` returns now), after `delayMs`. */
export function hereNowTransport(options: { delayMs?: number; uuids?: () => readonly string[]; status?: () => number } = {}): MemoryTransport {
  return createMemoryTransport({
    respond: (request): ScriptedResponse => {
      // A write answers as the service does; the reads below answer here-now.
      if (request.operation === 'setPresenceState') return { body: { status: 200, message: 'OK', payload: {}, service: 'Presence' } };
      const status = options.status?.() ?? 200;
      if (status !== 200) return { status, body: { status, error: true, message: 'Server error', service: 'Presence' } };
      return { body: singleChannelBody(options.uuids?.() ?? ['alice', 'bob']), delayMs: options.delayMs ?? 0 };
    },
  });
}

export interface CachedClient {
  readonly client: PresenceClient;
  readonly cache: RedisCachePlugin;
  readonly events: { [E in keyof PresenceEventMap]?: PresenceEventMap[E][] };
  cacheResults(): string[];
}

export function cachedClient(
  redis: Redis,
  transport: Transport,
  cacheOptions: Omit<RedisCacheOptions, 'redis'> = {},
  clientOptions: { authKey?: string; secretKey?: string; publishKey?: string; userId?: string; timeoutMs?: number } = {},
): CachedClient {
  const cache = redisCache({ redis, ...cacheOptions });
  const client = createPresence({ subscribeKey: 'sub-c-cache', userId: clientOptions.userId ?? 'tester', transport, plugins: [cache], ...clientOptions });
  const events: CachedClient['events'] = {};
  for (const name of ['cache', 'cacheError', 'cacheCorrupt', 'circuit'] as const) {
    client.events.on(name, (payload) => ((events[name] ??= []) as unknown[]).push(payload));
  }
  return { client, cache, events, cacheResults: () => (events.cache ?? []).map((e) => e.result) };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

/** Polls until `check` passes or `timeoutMs` runs out; returns the elapsed ms. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 5): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}
