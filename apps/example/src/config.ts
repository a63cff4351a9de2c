import { checkRoom } from './api-input.js';
import { BadRequest } from './http-errors.js';

/** The service's configuration, read from the environment and validated in this one place. */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  /** Instances on consecutive ports, from `port`; they share the cache when Redis is configured. */
  readonly replicas: number;
  readonly upstream: EmbeddedUpstream | PubNubUpstream;
  readonly redisUrl: string | undefined;
  /** The rooms the page shows live (the roster watches them; the simulated users use them). */
  readonly rooms: readonly string[];
  /** Simulated users who heartbeat, change state and leave over time. */
  readonly simulate: boolean;
  readonly cacheTtlMs: number;
  /** Deadline of each Redis command of the shared cache; past it a call goes upstream (fail-open). */
  readonly redisCommandTimeoutMs: number;
  /** Deadline of each presence call, retries included. */
  readonly timeoutMs: number;
}

export interface EmbeddedUpstream {
  readonly kind: 'emulator';
  readonly subscribeKey: string;
  readonly userId: string;
}

export interface PubNubUpstream {
  readonly kind: 'pubnub';
  readonly origin: string;
  readonly subscribeKey: string;
  readonly publishKey: string | undefined;
  readonly secretKey: string | undefined;
  readonly userId: string;
}

/** A bad setting: the message names the variable and what it accepts. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}; got "${raw}".`);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be 1 or 0 (true/false); got "${env[name]}".`);
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL such as ${protocols[0]}//host:port; got something that is not a URL.`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.join(' or ')}; got ${parsed.protocol}.`);
  }
  return raw;
}

function text(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  if (raw.trim() === '') throw new ConfigError(name, 'is set but empty; unset it or give a value.');
  return raw;
}

const MAX_ROOMS = 20;

function roomList(env: Env, name: string, fallback: readonly string[]): readonly string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const rooms = [...new Set(raw.split(',').map((room) => room.trim()))];
  for (const room of rooms) {
    try {
      checkRoom(room);
    } catch (error) {
      if (error instanceof BadRequest) throw new ConfigError(name, `${error.message} Separate rooms with commas.`);
      throw error;
    }
  }
  if (rooms.length > MAX_ROOMS) throw new ConfigError(name, `lists ${rooms.length} rooms; the page shows at most ${MAX_ROOMS}.`);
  return rooms;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const port = integer(env, 'PORT', 3000, 0, 65_535);
  const replicas = integer(env, 'REPLICAS', 1, 1, 8);
  if (port !== 0 && port + replicas - 1 > 65_535) throw new ConfigError('REPLICAS', `${replicas} replicas from port ${port} run past port 65535.`);
  const host = text(env, 'HOST') ?? '127.0.0.1';
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const cacheTtlMs = integer(env, 'CACHE_TTL_MS', 3000, 1, 60_000);
  const timeoutMs = integer(env, 'PRESENCE_TIMEOUT_MS', 10_000, 1, 600_000);
  const redisCommandTimeoutMs = integer(env, 'REDIS_COMMAND_TIMEOUT_MS', 50, 1, 60_000);
  const rooms = roomList(env, 'ROOMS', ['lobby', 'engineering', 'random']);
  const userId = text(env, 'PUBNUB_USER_ID') ?? 'presence-example';
  if ([...userId].length > 92) throw new ConfigError('PUBNUB_USER_ID', 'may have at most 92 characters.');

  const subscribeKey = text(env, 'PUBNUB_SUBSCRIBE_KEY');
  const origin = url(env, 'PUBNUB_ORIGIN', ['https:', 'http:']);
  const publishKey = text(env, 'PUBNUB_PUBLISH_KEY');
  const secretKey = text(env, 'PUBNUB_SECRET_KEY');
  let upstream: AppConfig['upstream'];
  if (subscribeKey) {
    if (secretKey && !publishKey) throw new ConfigError('PUBNUB_PUBLISH_KEY', 'is required with PUBNUB_SECRET_KEY: PubNub signs the publish key with every request.');
    upstream = { kind: 'pubnub', origin: origin ?? 'https://ps.pndsn.com', subscribeKey, publishKey, secretKey, userId };
  } else {
    for (const name of ['PUBNUB_ORIGIN', 'PUBNUB_PUBLISH_KEY', 'PUBNUB_SECRET_KEY'] as const) {
      if (env[name]) throw new ConfigError('PUBNUB_SUBSCRIBE_KEY', `is required when ${name} is set; without PubNub settings the service uses its embedded emulator.`);
    }
    upstream = { kind: 'emulator', subscribeKey: 'demo', userId };
  }
  return {
    port,
    host,
    replicas,
    upstream,
    redisUrl,
    rooms,
    simulate: flag(env, 'SIMULATE', upstream.kind === 'emulator'),
    cacheTtlMs,
    redisCommandTimeoutMs,
    timeoutMs,
  };
}

/** The configuration as it may be printed: no secret key. */
export function describeConfig(config: AppConfig): string {
  const upstream = config.upstream.kind === 'emulator' ? 'embedded emulator' : `PubNub at ${config.upstream.origin}${config.upstream.secretKey ? ' (signed)' : ''}`;
  const cache = config.redisUrl ? 'Redis (shared by every replica)' : 'memory (per replica)';
  return `upstream: ${upstream}; cache: ${cache}, ${config.cacheTtlMs} ms; replicas: ${config.replicas}; rooms: ${config.rooms.join(', ')}; simulated users: ${config.simulate ? 'on' : 'off'}`;
}
