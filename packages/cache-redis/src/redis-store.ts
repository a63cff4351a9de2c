import { createHash } from 'node:crypto';
import type { CacheSetOptions, CacheStore } from '@presence/core';
import { PresenceConfigurationError, rejectUnknownOptions } from '@presence/core';
import type { Cluster, Redis } from 'ioredis';
import { createCommandGuard, type CircuitBreakerOptions, type CommandGuard, type RedisClient } from './command-guard.js';
import { checkCircuitBreaker, checkPositive, checkPrefix } from './options.js';

export interface RedisStoreOptions {
  /** A connected ioredis `Redis` or `Cluster`; the store never closes it. */
  redis: RedisClient;
  /** Prefix of every key. Default `presence:`. */
  prefix?: string;
  /** Deadline of each Redis command. Default 50 ms. */
  commandTimeoutMs?: number;
  /** Default `{ failureThreshold: 5, resetMs: 5000 }`; false turns it off. */
  circuitBreaker?: CircuitBreakerOptions | false;
}

/** Where an entry lives in Redis: the value, its tag list, its lock and its fence share one hash slot. */
export interface RedisKeys {
  readonly value: string;
  readonly meta: string;
  readonly lock: string;
  /** Counts the invalidations that reached the entry; a fill writes only if it is unchanged since the fill began. */
  readonly fence: string;
}

/** What a fill read before going upstream: the entry's fence, handed back to `setFenced`. */
export interface FillTicket {
  readonly fence: string;
}

/**
 * A CacheStore<string> in Redis. Beyond the contract it offers the fleet lock the cache uses.
 * Its methods reject with RedisUnavailableError when Redis errs, times out or is not connected.
 */
export interface RedisStore extends CacheStore<string> {
  readonly prefix: string;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options: CacheSetOptions): Promise<void>;
  delete(key: string): Promise<void>;
  invalidate(tags: readonly string[]): Promise<number>;
  clear(): Promise<void>;
  /** Redis key names of a cache key: opaque hashes, nothing readable from the key itself. */
  keysOf(key: string): RedisKeys;
  /** `SET lock token NX PX ttlMs`: true when this caller now holds the lock. */
  lock(key: string, token: string, ttlMs: number): Promise<boolean>;
  /**
   * One round trip of the fleet single-flight: the value if it is there by now, else an attempt
   * at the lock. Checking both at once closes the gap where a value lands just after a miss.
   */
  lockOrGet(key: string, token: string, ttlMs: number): Promise<{ value: string } | { locked: boolean }>;
  /** Deletes the lock only if `token` still holds it. */
  unlock(key: string, token: string): Promise<boolean>;
  /**
   * Call before a fill asks upstream: links the entry to its tags (so an invalidation from now on
   * finds it even though no value is stored yet) and reads its fence.
   */
  beginFill(key: string, tags: readonly string[]): Promise<FillTicket>;
  /**
   * `set`, unless an invalidation reached the entry since `beginFill` gave out `ticket`: then nothing
   * is written and it resolves false. Checked and written in one script, so a fill that began before
   * an invalidation can never land after it.
   */
  setFenced(key: string, value: string, options: CacheSetOptions, ticket: FillTicket): Promise<boolean>;
}

/**
 * How long a fill may take, from `beginFill` to its write: its tag links and a fence moved during
 * it live at least this long. Calls end far sooner (each has a deadline of seconds); the cache does
 * not write a fill older than this.
 */
export const FILL_HORIZON_MS = 60_000;

// Per process, and only a memo of a pure function: the same few keys are hashed on every call, so
// recent ones are remembered (bounded, dropped wholesale when full).
const recentHashes = new Map<string, string>();
const MAX_RECENT_HASHES = 4096;

export const hashOf = (text: string): string => {
  let hash = recentHashes.get(text);
  if (hash === undefined) {
    hash = createHash('sha256').update(text).digest('hex').slice(0, 32);
    if (recentHashes.size >= MAX_RECENT_HASHES) recentHashes.clear();
    recentHashes.set(text, hash);
  }
  return hash;
};

// A value and its tag list are written together, so an overwrite replaces the tags atomically.
// With a fence (KEYS[3]), only if no invalidation moved it since the fill read ARGV[4] ('' = none yet).
const SET_SCRIPT = `
if KEYS[3] and (redis.call('GET', KEYS[3]) or '') ~= ARGV[4] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] == '' then redis.call('UNLINK', KEYS[2]) else redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2]) end
return 1`;

// A tag set lives as long as its longest-lived member could.
const TAG_SCRIPT = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// Moves the entry's fence first, so a fill that began before this invalidation can no longer
// write; then drops the entry, only if it still carries one of the tags (a tag set may list an
// entry since overwritten with other tags). One slot per call, so it is safe on a Cluster.
const INVALIDATE_SCRIPT = `
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ${FILL_HORIZON_MS})
local tags = redis.call('GET', KEYS[2])
if not tags then return 0 end
for i = 1, #ARGV do
  if string.find(tags, ',' .. ARGV[i] .. ',', 1, true) then
    local existed = redis.call('EXISTS', KEYS[1])
    redis.call('UNLINK', KEYS[1], KEYS[2])
    return existed
  end
end
return 0`;

/** clear() walks every key of the prefix: an admin operation, given more time than a cache read. */
const ADMIN_TIMEOUT_MS = 1000;

const LOCK_OR_GET_SCRIPT = `
local value = redis.call('GET', KEYS[1])
if value then return {1, value} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
return {0}`;

const UNLOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Glob characters in the prefix must match literally in SCAN MATCH. */
const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

export function createRedisStore(options: RedisStoreOptions): RedisStore {
  if (typeof options !== 'object' || options === null || !options.redis) {
    throw new PresenceConfigurationError('createRedisStore.redis', 'createRedisStore: pass { redis }, a connected ioredis Redis or Cluster.');
  }
  rejectUnknownOptions('createRedisStore', options, ['redis', 'prefix', 'commandTimeoutMs', 'circuitBreaker'], 'createRedisStore.');
  const guard = createCommandGuard({
    redis: options.redis,
    commandTimeoutMs: checkPositive('createRedisStore.commandTimeoutMs', options.commandTimeoutMs, 50),
    circuitBreaker: checkCircuitBreaker('createRedisStore.circuitBreaker', options.circuitBreaker),
  });
  return storeWithGuard(options.redis, guard, checkPrefix('createRedisStore.prefix', options.prefix));
}

/** The store over a guard shared with the cache plugin, so both feed one circuit breaker. */
export function storeWithGuard(redis: RedisClient, guard: CommandGuard, prefix: string): RedisStore {
  const keysOfHash = (hash: string): RedisKeys => ({
    value: `${prefix}{${hash}}:v`,
    meta: `${prefix}{${hash}}:m`,
    lock: `${prefix}{${hash}}:lock`,
    fence: `${prefix}{${hash}}:f`,
  });
  const tagKey = (tagHash: string): string => `${prefix}{t:${tagHash}}`;
  const keysOf = (key: string): RedisKeys => keysOfHash(hashOf(key));
  const run = guard.run.bind(guard);

  /** A value and its tags; with a ticket, only if no invalidation reached the entry since its fill began. */
  async function write(key: string, value: string, { ttlMs, tags }: CacheSetOptions, ticket: FillTicket | undefined): Promise<boolean> {
    const hash = hashOf(key);
    const keys = keysOfHash(hash);
    const ms = Math.ceil(ttlMs);
    if (!(ms > 0)) {
      await store.delete(key);
      return true;
    }
    const tagHashes = [...new Set(tags.map(hashOf))];
    const meta = tagHashes.length ? `,${tagHashes.join(',')},` : '';
    // Tags first: an entry must never be findable without being invalidatable.
    await Promise.all(tagHashes.map((t) => run((r) => r.eval(TAG_SCRIPT, 1, tagKey(t), hash, ms))));
    const written = ticket
      ? await run((r) => r.eval(SET_SCRIPT, 3, keys.value, keys.meta, keys.fence, value, ms, meta, ticket.fence))
      : await run((r) => r.eval(SET_SCRIPT, 2, keys.value, keys.meta, value, ms, meta));
    return Number(written) === 1;
  }

  const store: RedisStore = {
    name: 'redis',
    prefix,
    keysOf,
    async get(key) {
      // Only the value's name: the hot path of an L2 hit builds no other key.
      const valueKey = `${prefix}{${hashOf(key)}}:v`;
      const value = await run((r) => r.get(valueKey));
      return value ?? undefined;
    },
    async set(key, value, options: CacheSetOptions) {
      await write(key, value, options, undefined);
    },
    setFenced: (key, value, options, ticket) => write(key, value, options, ticket),
    async beginFill(key, tags) {
      const hash = hashOf(key);
      const [fence] = await Promise.all([
        run((r) => r.get(keysOfHash(hash).fence)),
        // Linked for as long as the fill may still write.
        ...[...new Set(tags.map(hashOf))].map((t) => run((r) => r.eval(TAG_SCRIPT, 1, tagKey(t), hash, FILL_HORIZON_MS))),
      ]);
      return { fence: (fence as string | null) ?? '' };
    },
    async delete(key) {
      const keys = keysOf(key);
      await run((r) => r.unlink(keys.value, keys.meta));
    },
    async invalidate(tags) {
      const tagHashes = [...new Set(tags.map(hashOf))];
      const memberLists = await Promise.all(tagHashes.map((t) => run((r) => r.smembers(tagKey(t)))));
      const members = [...new Set(memberLists.flat())];
      // Unlink exactly what was read, before the entries are fenced and dropped: a fill that links
      // an entry again from now on keeps its link (a write re-links before it sets), and one that
      // linked it earlier is refused by the fence.
      await Promise.all(
        tagHashes.map((t, i) => (memberLists[i]!.length ? run((r) => r.srem(tagKey(t), ...memberLists[i]!)) : undefined)),
      );
      const dropped = await Promise.all(
        members.map((hash) => {
          const keys = keysOfHash(hash);
          return run((r) => r.eval(INVALIDATE_SCRIPT, 3, keys.value, keys.meta, keys.fence, ...tagHashes) as Promise<number>);
        }),
      );
      return dropped.reduce((sum: number, n) => sum + Number(n), 0);
    },
    async clear() {
      const nodes: Redis[] = redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
      const pattern = `${globEscape(prefix)}*`;
      const slow = ADMIN_TIMEOUT_MS;
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await run(() => node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000), slow);
          cursor = next;
          // One key per command: keys found on one node may sit in different slots.
          await Promise.all(keys.map((k) => run(() => node.unlink(k), slow)));
        } while (cursor !== '0');
      }
    },
    async lock(key, token, ttlMs) {
      const reply = await run((r) => r.set(keysOf(key).lock, token, 'PX', Math.ceil(ttlMs), 'NX'));
      return reply === 'OK';
    },
    async lockOrGet(key, token, ttlMs) {
      const keys = keysOf(key);
      const reply = (await run((r) => r.eval(LOCK_OR_GET_SCRIPT, 2, keys.value, keys.lock, token, Math.ceil(ttlMs)))) as [number, string?];
      return reply[0] === 1 ? { value: reply[1] ?? '' } : { locked: reply[0] === 2 };
    },
    async unlock(key, token) {
      const reply = await run((r) => r.eval(UNLOCK_SCRIPT, 1, keysOf(key).lock, token));
      return Number(reply) === 1;
    },
  };
  return store;
}
