import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createPresence, memoryCache, type JsonValue, type Logger, type Plugin, type PresenceClient } from '@presence/core';
import { redisCache } from '@presence/cache-redis';
import { createEmulator, type Emulator } from '@presence/emulator';
import { prometheusMetrics } from '@presence/metrics-prometheus';
import { json } from '@presence/serializer';
import { httpTransport, retry } from '@presence/transport-http';
import { Redis } from 'ioredis';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { AppConfig } from './config.js';
import { createService } from './server.js';
import { startSimulator, type Simulator } from './simulator.js';

export interface Replica {
  readonly url: string;
  readonly port: number;
  readonly presence: PresenceClient<JsonValue>;
  readonly registry: Registry;
}

export interface App {
  readonly replicas: readonly Replica[];
  /** The embedded emulator, when no PubNub settings were given. */
  readonly emulator: Emulator | undefined;
  readonly simulator: Simulator | undefined;
  /** Stops accepting, lets in-flight requests finish, then closes Redis and the emulator. */
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** Simulator pacing, for tests. */
  simulatorTickMs?: number;
}

function ready(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (value: boolean): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(value);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.once('ready', onReady);
  });
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Idle keep-alive connections would hold close() open; busy ones finish their request first.
    server.closeIdleConnections();
  });
}

/** Starts the who's-online service: emulator (if embedded), replicas, shared cache, metrics, simulator. */
export async function startApp(config: AppConfig, options: AppOptions = {}): Promise<App> {
  const cleanups: Array<() => unknown> = [];
  const emulator = config.upstream.kind === 'emulator' ? await createEmulator() : undefined;
  if (emulator) cleanups.push(() => emulator.close());
  const upstream = config.upstream;
  const origin = upstream.kind === 'emulator' ? emulator!.origin : upstream.origin;
  const keys =
    upstream.kind === 'pubnub'
      ? { subscribeKey: upstream.subscribeKey, ...(upstream.publishKey ? { publishKey: upstream.publishKey } : {}), ...(upstream.secretKey ? { secretKey: upstream.secretKey } : {}) }
      : { subscribeKey: upstream.subscribeKey };

  const replicas: Replica[] = [];
  const servers: Server[] = [];
  try {
    for (let index = 0; index < config.replicas; index++) {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      let cache: Plugin = memoryCache({ ttlMs: config.cacheTtlMs });
      if (config.redisUrl) {
        // Fail fast rather than queue: the cache answers within its own deadlines or steps aside.
        const redis = new Redis(config.redisUrl, { lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
        redis.on('error', () => {}); // the cache reports Redis failures through its events and metrics
        cleanups.push(() => redis.quit().catch(() => redis.disconnect()));
        // Start serving with the cache in place when Redis answers promptly; without it the cache
        // steps aside (fail-open) until Redis is back, so a slow Redis never blocks start-up for long.
        if (!(await ready(redis, 3000))) options.logger?.warn({ reason: 'redis_not_ready' }, 'Redis is not ready; serving from upstream until it is');
        cache = redisCache({ redis, ttlMs: config.cacheTtlMs });
      }
      const presence = createPresence<JsonValue>({
        ...keys,
        userId: upstream.userId,
        timeoutMs: config.timeoutMs,
        transport: httpTransport({ origin }),
        serializer: json<JsonValue>({ maxBytes: 16 * 1024 }),
        plugins: [retry(), cache, prometheusMetrics({ registry })],
        ...(options.logger ? { logger: options.logger } : {}),
      });
      cleanups.push(() => presence.close());
      const server = createService({ presence, registry, onInternalError: (error) => options.logger?.error({ message: String(error) }, 'internal error') });
      servers.push(server);
      const port = await listen(server, config.port === 0 ? 0 : config.port + index, config.host);
      replicas.push({ url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`, port, presence, registry });
    }

    let simulator: Simulator | undefined;
    if (config.simulate) {
      const actor = createPresence<JsonValue>({ ...keys, userId: `${upstream.userId}-simulator`, transport: httpTransport({ origin }) });
      cleanups.push(() => actor.close());
      simulator = await startSimulator(actor, { tickMs: options.simulatorTickMs ?? 1000 });
      cleanups.push(() => simulator!.stop());
    }

    let closing: Promise<void> | undefined;
    return {
      replicas,
      emulator,
      simulator,
      close() {
        closing ??= (async () => {
          await Promise.all(servers.map((server) => closeServer(server, 10_000)));
          for (const cleanup of cleanups.reverse()) await cleanup();
        })();
        return closing;
      },
    };
  } catch (error) {
    await Promise.all(servers.map((server) => closeServer(server, 0)));
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    throw error;
  }
}
