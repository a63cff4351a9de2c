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
import { createLiveEvents, type LiveEvents } from './live-events.js';
import { wireRoster } from './roster-wiring.js';
import { createService, type ReadinessCheck } from './server.js';
import { startSimulator, type Simulator } from './simulator.js';
import { StartupError } from './startup-error.js';

export interface Replica {
  readonly url: string;
  readonly port: number;
  readonly presence: PresenceClient<JsonValue>;
  readonly registry: Registry;
  /** The page's live feed: this replica's event streams. */
  readonly live: LiveEvents;
  /** `solo`, or in a fleet `leader` / `mirror` / `none`. */
  rosterRole(): string;
}

export interface App {
  readonly replicas: readonly Replica[];
  /** The embedded emulator, when no PubNub settings were given. */
  readonly emulator: Emulator | undefined;
  readonly simulator: Simulator | undefined;
  /** Stops accepting, ends the event streams, lets in-flight requests finish, then closes the roster, Redis and the emulator. */
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** Simulator pacing, for tests. */
  simulatorTickMs?: number;
  /** How often an idle event stream carries a ping (default 15 s), for tests. */
  eventPingMs?: number;
}

type RedisState = 'ready' | 'unknown_host' | 'not_ready';

function whenReady(redis: Redis, timeoutMs: number): Promise<RedisState> {
  if (redis.status === 'ready') return Promise.resolve('ready');
  return new Promise((resolve) => {
    const done = (value: RedisState): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      resolve(value);
    };
    const onReady = (): void => done('ready');
    const onError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'ENOTFOUND' || error.code === 'EAI_NONAME' || error.code === 'EAI_AGAIN') done('unknown_host');
    };
    const timer = setTimeout(() => done('not_ready'), timeoutMs);
    redis.once('ready', onReady);
    redis.on('error', onError);
  });
}

/** A listen failure, in the words of the setting behind it. */
function listenError(error: NodeJS.ErrnoException, port: number, host: string): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new StartupError('PORT', `port ${port} on ${host} is already in use; stop what holds it or set PORT to a free port (0 picks one).`);
    case 'EACCES':
      return new StartupError('PORT', `port ${port} needs privileges this process does not have; set PORT to 1024 or above.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new StartupError('HOST', `"${host}" is not a known host name; set HOST to an address of this machine such as 127.0.0.1.`);
    case 'EADDRNOTAVAIL':
      return new StartupError('HOST', `${host} is not an address of this machine; set HOST to one (127.0.0.1, or 0.0.0.0 for every interface).`);
    default:
      return error;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(listenError(error, port, host));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
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

/** Starts the who's-online service: emulator (if embedded), replicas with their roster and page, shared cache, metrics, simulator. */
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
  const feeds: LiveEvents[] = [];
  try {
    for (let index = 0; index < config.replicas; index++) {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      const readiness: Record<string, ReadinessCheck> = {};
      let cache: Plugin = memoryCache({ ttlMs: config.cacheTtlMs });
      let redis: Redis | undefined;
      if (config.redisUrl) {
        // Fail fast rather than queue: the cache answers within its own deadlines or steps aside.
        const client = new Redis(config.redisUrl, { lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
        redis = client;
        client.on('error', () => {}); // the cache reports Redis failures through its events and metrics
        cleanups.push(() => client.quit().catch(() => client.disconnect()));
        // Start serving with the cache in place when Redis answers promptly; without it the cache
        // steps aside (fail-open) until Redis is back, so a slow Redis never blocks start-up for long.
        // A host name that does not resolve is a setting to fix, not an outage to wait out.
        const state = await whenReady(client, 3000);
        if (state === 'unknown_host') throw new StartupError('REDIS_URL', `the host "${new URL(config.redisUrl).hostname}" is not known; check the host name.`);
        if (state !== 'ready') options.logger?.warn({ reason: 'redis_not_ready' }, 'Redis is not ready; serving from upstream until it is');
        cache = redisCache({ redis: client, ttlMs: config.cacheTtlMs, commandTimeoutMs: config.redisCommandTimeoutMs });
        readiness.redis = async () => ((await client.ping()) === 'PONG' ? undefined : 'Redis did not answer PING');
      }
      const roster = wireRoster({ rooms: config.rooms, upstreamCacheMs: emulator ? 0 : 3000, ...(redis ? { redis } : {}) });
      const presence = createPresence<JsonValue>({
        ...keys,
        userId: upstream.userId,
        timeoutMs: config.timeoutMs,
        transport: httpTransport({ origin }),
        serializer: json<JsonValue>({ maxBytes: 16 * 1024 }),
        // The roster answers here-now for its rooms from memory, ahead of the cache.
        plugins: [retry(), ...roster.plugins, cache, prometheusMetrics({ registry })],
        ...(options.logger ? { logger: options.logger } : {}),
      });
      cleanups.push(() => presence.close());
      cleanups.push(() => roster.close());
      const live = createLiveEvents(roster.roster, config.rooms, {
        ...(options.eventPingMs ? { pingMs: options.eventPingMs } : {}),
        onError: (error) => options.logger?.error({ message: String(error) }, 'the live roster stopped'),
      });
      feeds.push(live);
      cleanups.push(() => live.close());
      const server = createService({
        presence,
        registry,
        rooms: config.rooms,
        live,
        readiness,
        rosterRole: () => roster.role(),
        onInternalError: (error) => options.logger?.error({ message: String(error) }, 'internal error'),
      });
      servers.push(server);
      const port = await listen(server, config.port === 0 ? 0 : config.port + index, config.host);
      replicas.push({ url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`, port, presence, registry, live, rosterRole: () => roster.role() });
    }

    let simulator: Simulator | undefined;
    if (config.simulate) {
      const actor = createPresence<JsonValue>({ ...keys, userId: `${upstream.userId}-simulator`, transport: httpTransport({ origin }) });
      cleanups.push(() => actor.close());
      simulator = await startSimulator(actor, { tickMs: options.simulatorTickMs ?? 1000, rooms: config.rooms });
      cleanups.push(() => simulator!.stop());
    }

    let closing: Promise<void> | undefined;
    return {
      replicas,
      emulator,
      simulator,
      close() {
        closing ??= (async () => {
          // Stop accepting and end the event streams at once; in-flight requests finish (up to 10 s).
          await Promise.all([...servers.map((server) => closeServer(server, 10_000)), ...feeds.map((live) => live.close())]);
          for (const cleanup of cleanups.reverse()) await cleanup();
        })();
        return closing;
      },
    };
  } catch (error) {
    await Promise.all([...servers.map((server) => closeServer(server, 0)), ...feeds.map((live) => live.close())]);
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
    throw error;
  }
}
