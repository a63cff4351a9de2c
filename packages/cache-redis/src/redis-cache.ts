import { randomUUID } from 'node:crypto';
import {
  cacheKeyOf,
  cacheTagsOf,
  createMemoryStore,
  cacheReporter,
  deriveCall,
  noteCacheResult,
  createSingleFlight,
  type FlightScope,
  deepFreeze,
  invalidationTagsOf,
  PresenceConfigurationError,
  PresenceError,
  PresenceTimeoutError,
  readEnvelope,
  type CacheResult,
  type Call,
  type Handler,
  type MemoryStore,
  type Plugin,
  type PresenceEventMap,
  type PresenceEvents,
  type ResolvedConfig,
  rejectUnknownOptions,
} from '@presence/core';
import { createCommandGuard, type CircuitBreakerOptions, type RedisClient } from './command-guard.js';
import { checkCircuitBreaker, checkFraction, checkInteger, checkNonNegative, checkObject, checkPositive, checkPrefix, checkRedisClient } from './options.js';
import { FILL_HORIZON_MS, hashOf, storeWithGuard, type FillTicket, type RedisStore } from './redis-store.js';

export interface RedisCacheOptions {
  /** A connected ioredis `Redis` or `Cluster`, shared with the application; the cache never closes it. */
  redis: RedisClient;
  /** How long an answer is fresh in Redis. Default 3000 ms, PubNub's own here-now cache time. */
  ttlMs?: number;
  /** ± fraction applied to each entry's TTL, so entries written together do not expire together. Default 0.1; 0 turns it off. */
  jitter?: number;
  /** Prefix of every Redis key and channel. Default `presence:`. */
  prefix?: string;
  /** The in-process level in front of Redis; false turns it off. Default `{ ttlMs: 1000, maxEntries: 10_000 }`. */
  l1?: { ttlMs?: number; maxEntries?: number } | false;
  /**
   * Fleet-wide single-flight: on a miss one process takes `SET NX PX ttlMs` and calls upstream;
   * the others wait up to `waitMs` for its value, checking every `pollMs` (and at once when told
   * over pub/sub). false: each process calls upstream on a miss. Default `{ ttlMs: 2000, waitMs: 1500, pollMs: 20 }`.
   */
  lock?: { ttlMs?: number; waitMs?: number; pollMs?: number } | false;
  /** Keep answers this long past `ttlMs` and serve them (`stale`) while one background refresh runs. Default 0. */
  staleWhileRevalidateMs?: number;
  /** Deadline of each Redis command; past it the call goes upstream. Default 50 ms. */
  commandTimeoutMs?: number;
  /** Skips Redis for `resetMs` after `failureThreshold` consecutive failures. Default `{ failureThreshold: 5, resetMs: 5000 }`; false turns it off. */
  circuitBreaker?: CircuitBreakerOptions | false;
  /**
   * Connection for the invalidation and fill channels. Default: `redis.duplicate()`, closed with
   * the client. Pass your own to control it (it is then left open), or false to run without the
   * bus (the L1 TTL then bounds staleness, and lock waiters rely on polling alone).
   */
  subscriber?: RedisClient | false;
  /**
   * The clock of L1 expiry and of entry ages (the written-at time in an L2 value), in epoch ms.
   * Default `Date.now`. For tests that drive expiry instead of sleeping; Redis's own TTLs stay real.
   */
  now?: () => number;
}

export interface RedisCachePlugin extends Plugin {
  /** The L2 store (Redis). */
  readonly store: RedisStore;
  /** The L1 store (this process), if enabled. Its tags are hashed, as on the bus. */
  readonly l1: MemoryStore | undefined;
  /** Resolves once the background work started so far (L2 writes, lock releases, refreshes) has settled. */
  flush(): Promise<void>;
}

interface Filled {
  readonly output: unknown;
  readonly result: CacheResult;
}

/** A fill that may write L2: when it began (performance.now) and what Redis handed it then. */
interface FillStart {
  readonly at: number;
  readonly ticket: FillTicket;
}

interface Decoded {
  readonly output: unknown;
  readonly at: number;
  readonly ttl: number;
}

/**
 * L2 values: a one-line header (format and version, written-at epoch ms, fresh-for ms), then the
 * upstream body exactly as received. Plain text, so the body is parsed once, by readEnvelope.
 */
const ENVELOPE_MAGIC = 'pc1 ';
const HEADER = /^pc1 (\d{1,15}) (\d{1,12})$/;
const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const ignore = (): void => {};

/**
 * The here-now cache shared by a fleet through Redis: L1 in process → in-process single-flight →
 * L2 in Redis → fleet-wide single-flight under a short Redis lock. Writes through the client drop
 * the answers they make stale, in Redis and (over pub/sub) in every process's L1. Redis trouble
 * never reaches a caller: each command has its own deadline and the call falls back to upstream.
 */
const REDIS_CACHE_OPTION_KEYS = Object.keys({
  redis: true, ttlMs: true, jitter: true, prefix: true, l1: true, lock: true, staleWhileRevalidateMs: true,
  commandTimeoutMs: true, circuitBreaker: true, subscriber: true, now: true,
} satisfies Record<keyof RedisCacheOptions, true>);

export function redisCache(options: RedisCacheOptions): RedisCachePlugin {
  const opts = checkObject('redisCache', options);
  rejectUnknownOptions('redisCache', opts, REDIS_CACHE_OPTION_KEYS, 'redisCache.');
  checkRedisClient('redisCache.redis', opts.redis);
  const redis = opts.redis as RedisClient;
  const ttlMs = checkPositive('redisCache.ttlMs', opts.ttlMs, 3000);
  const jitter = checkFraction('redisCache.jitter', opts.jitter, 0.1);
  const prefix = checkPrefix('redisCache.prefix', opts.prefix);
  const swrMs = checkNonNegative('redisCache.staleWhileRevalidateMs', opts.staleWhileRevalidateMs, 0);
  const commandTimeoutMs = checkPositive('redisCache.commandTimeoutMs', opts.commandTimeoutMs, 50);
  const circuitBreaker = checkCircuitBreaker('redisCache.circuitBreaker', opts.circuitBreaker);
  let l1Ttl = 0;
  let l1: MemoryStore | undefined;
  if (opts.l1 !== false) {
    const l1Options = opts.l1 === undefined ? {} : checkObject('redisCache.l1', opts.l1);
    rejectUnknownOptions('redisCache l1', l1Options, ['ttlMs', 'maxEntries'], 'redisCache.l1.');
    l1Ttl = Math.min(checkPositive('redisCache.l1.ttlMs', l1Options.ttlMs, 1000), ttlMs);
    l1 = createMemoryStore({ maxEntries: checkInteger('redisCache.l1.maxEntries', l1Options.maxEntries, 10_000), now: () => now() });
  }
  let lock: { ttlMs: number; waitMs: number; pollMs: number } | undefined;
  if (opts.lock !== false) {
    const lockOptions = opts.lock === undefined ? {} : checkObject('redisCache.lock', opts.lock);
    rejectUnknownOptions('redisCache lock', lockOptions, ['ttlMs', 'waitMs', 'pollMs'], 'redisCache.lock.');
    lock = {
      ttlMs: checkPositive('redisCache.lock.ttlMs', lockOptions.ttlMs, 2000),
      waitMs: checkNonNegative('redisCache.lock.waitMs', lockOptions.waitMs, 1500),
      pollMs: checkPositive('redisCache.lock.pollMs', lockOptions.pollMs, 20),
    };
  }
  if (opts.subscriber !== undefined && opts.subscriber !== false) checkRedisClient('redisCache.subscriber', opts.subscriber);
  if (opts.now !== undefined && typeof opts.now !== 'function') {
    throw new PresenceConfigurationError('redisCache.now', `redisCache.now must be a function returning epoch milliseconds, e.g. () => Date.now(); got ${typeof opts.now}.`);
  }
  const now = (opts.now as (() => number) | undefined) ?? Date.now;
  const subscriberOption = opts.subscriber as RedisClient | false | undefined;

  // Per plugin instance: every client the plugin is applied to shares L1, flights and the bus.
  const sinks = new Set<PresenceEvents>();
  const emitAll = <E extends 'cacheError' | 'circuit' | 'cacheCorrupt' | 'cacheRefreshFailed'>(event: E, payload: PresenceEventMap[E]): void => {
    for (const events of sinks) events.emit(event, payload);
  };
  const guard = createCommandGuard({
    redis,
    commandTimeoutMs,
    circuitBreaker,
    onFailure: (reason) => emitAll('cacheError', { store: 'redis', reason }),
    onCircuit: (open) => emitAll('circuit', { store: 'redis', open }),
  });
  const store = storeWithGuard(redis, guard, prefix);
  const flights = createSingleFlight<Filled>();
  const refreshing = new Set<string>();
  const pending = new Set<Promise<unknown>>();
  const fillWaiters = new Map<string, Set<() => void>>();
  const instanceId = randomUUID();
  const invalidateChannel = `${prefix}invalidate`;
  const fillChannel = `${prefix}fill`;
  let subscriber: RedisClient | undefined;
  let clients = 0;

  // Invalidations this process has seen (its own writes and the bus), numbered, with the number of
  // the latest one per tag hash: a fill that began before one of its tags was invalidated is not
  // put into L1. Bounded: when the map is full it is dropped and every fill begun before counts as
  // invalidated (`floor`), which costs at most a few L1 writes.
  let invalidations = 0;
  let floor = 0;
  const lastInvalidated = new Map<string, number>();
  const MAX_TRACKED_TAGS = 10_000;
  const noteInvalidated = (tagHashes: readonly string[]): void => {
    invalidations++;
    if (lastInvalidated.size + tagHashes.length > MAX_TRACKED_TAGS) {
      lastInvalidated.clear();
      floor = invalidations;
    }
    for (const hash of tagHashes) lastInvalidated.set(hash, invalidations);
  };
  const invalidatedSince = (seen: number, tagHashes: readonly string[]): boolean =>
    seen !== invalidations && (seen < floor || tagHashes.some((hash) => (lastInvalidated.get(hash) ?? 0) > seen));

  const background = (work: Promise<unknown>): void => {
    const tracked = work.catch(ignore).finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  const jittered = (): number => Math.max(1, Math.round(ttlMs * (1 + jitter * (2 * Math.random() - 1))));

  const onMessage = (channel: string, message: string): void => {
    if (channel === fillChannel) {
      const wakers = fillWaiters.get(message);
      if (wakers) for (const wake of [...wakers]) wake();
      return;
    }
    if (channel !== invalidateChannel) return;
    try {
      const parsed = JSON.parse(message) as { from?: unknown; tags?: unknown };
      if (parsed.from === instanceId || !Array.isArray(parsed.tags)) return;
      const hashes = parsed.tags.filter((t): t is string => typeof t === 'string');
      noteInvalidated(hashes);
      // The L1 is a memory store: it works synchronously; its promise only fits the CacheStore contract.
      void l1?.invalidate(hashes);
    } catch {
      // Not ours (another writer on the channel): ignore it.
    }
  };

  let subscribeOnReady: (() => void) | undefined;
  function startBus(): void {
    if (subscriberOption === false) return;
    subscriber = subscriberOption ?? redis.duplicate();
    // Connection errors of the bus only cost L1 freshness (bounded by its TTL); they never reach a caller.
    subscriber.on('error', ignore);
    subscriber.on('message', onMessage);
    // Subscribe on every 'ready', not once: a client without an offline queue refuses commands
    // until it is connected, and a reconnect must not leave the bus silent.
    const sub = subscriber;
    const subscribe = (): void => void sub.subscribe(invalidateChannel, fillChannel).catch(ignore);
    subscribeOnReady = subscribe;
    sub.on('ready', subscribe);
    if (sub.status === 'ready' || sub.options?.enableOfflineQueue !== false) subscribe();
  }

  async function stopBus(): Promise<void> {
    const sub = subscriber;
    subscriber = undefined;
    if (!sub) return;
    sub.off('message', onMessage);
    if (subscribeOnReady) sub.off('ready', subscribeOnReady);
    if (subscriberOption) {
      await sub.unsubscribe(invalidateChannel, fillChannel).catch(ignore);
      sub.off('error', ignore);
    } else {
      sub.disconnect();
    }
  }

  const publish = (channel: string, message: string): Promise<unknown> => guard.run((r) => r.publish(channel, message));

  /** Waits for a fill notice for `hash`, at most `ms`; rejects when the flight's signal aborts. */
  function waitForNotice(hash: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let wakers = fillWaiters.get(hash);
      if (!wakers) fillWaiters.set(hash, (wakers = new Set()));
      const set = wakers;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        set.delete(wake);
        if (set.size === 0 && fillWaiters.get(hash) === set) fillWaiters.delete(hash);
      };
      const wake = (): void => {
        done();
        resolve();
      };
      const onAbort = (): void => {
        done();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the call's typed reason (timeout or abort)
        reject(signal.reason);
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  // The last L2 value decoded per key: the same value read again (no L1, or L1 expired within the
  // entry's life, as L1 TTLs are shorter) is not parsed, checked and frozen again — that was most
  // of an L2 hit's own cost. Reused only for the very same text and client config; bounded in
  // entries and characters, and dropped wholesale when full.
  const decodedByKey = new Map<string, { raw: string; config: ResolvedConfig; decoded: Decoded }>();
  let decodedChars = 0;
  const MAX_DECODED_ENTRIES = 1000;
  const MAX_DECODED_CHARS = 8_000_000;

  /** Reads an L2 value back; undefined when it is not a well-formed envelope of a valid answer. */
  function decode(key: string, raw: string, call: Call, config: ResolvedConfig): Decoded | undefined {
    const last = decodedByKey.get(key);
    if (last !== undefined && last.raw === raw && last.config === config) return last.decoded;
    const decoded = decodeFresh(raw, call, config);
    if (decoded && raw.length <= MAX_DECODED_CHARS) {
      if (last !== undefined) decodedChars -= last.raw.length;
      if (decodedByKey.size >= MAX_DECODED_ENTRIES || decodedChars + raw.length > MAX_DECODED_CHARS) {
        decodedByKey.clear();
        decodedChars = 0;
      }
      decodedByKey.set(key, { raw, config, decoded });
      decodedChars += raw.length;
    }
    return decoded;
  }

  function decodeFresh(raw: string, call: Call, config: ResolvedConfig): Decoded | undefined {
    if (!raw.startsWith(ENVELOPE_MAGIC)) return undefined;
    const newline = raw.indexOf('\n');
    const header = newline > 0 ? HEADER.exec(raw.slice(0, newline)) : null;
    if (!header) return undefined;
    const at = Number(header[1]);
    const ttl = Number(header[2]);
    if (!(ttl > 0)) return undefined;
    try {
      // The same checks as a live response: an error body or a bad shape is never served.
      const checked = readEnvelope({ status: 200, headers: JSON_HEADERS, body: raw.slice(newline + 1) }, call.operation.name);
      return { output: deepFreeze(call.operation.parse(checked, call.params, config)), at, ttl };
    } catch {
      return undefined;
    }
  }

  /** Deleted before the call goes on, so no later read (this call's lock attempt included) meets it again. */
  async function discard(key: string): Promise<void> {
    emitAll('cacheCorrupt', { store: 'redis' });
    await store.delete(key).catch(ignore);
  }

  /**
   * L2 write, then the lock release and the fill notice: waiters look only after the value is there.
   * Fenced: if an invalidation reached the entry since the fill began, nothing is written, and this
   * process's L1 copy of the fill (`output`) is dropped too.
   */
  async function writeL2(key: string, body: string, tags: () => readonly string[], token: string | undefined, fill: FillStart, output: unknown): Promise<void> {
    const ttl = jittered();
    const envelope = `${ENVELOPE_MAGIC}${now()} ${ttl}\n${body}`;
    try {
      const written = performance.now() - fill.at < FILL_HORIZON_MS && (await store.setFenced(key, envelope, { ttlMs: ttl + swrMs, tags: tags() }, fill.ticket));
      if (!written && l1 && l1.get(key) === output) await l1.delete(key);
    } finally {
      if (token !== undefined) await release(key, token);
    }
  }

  async function release(key: string, token: string): Promise<void> {
    await store.unlock(key, token).catch(ignore);
    if (subscriber) await publish(fillChannel, hashOf(key)).catch(ignore);
  }

  /** Into L1, unless one of its tags was invalidated here since the fill (or read) began. */
  const setL1 = (key: string, output: unknown, ms: number, tags: () => readonly string[], seen: number): void => {
    if (!l1 || !(ms > 0)) return;
    const tagHashes = tags().map(hashOf);
    if (invalidatedSince(seen, tagHashes)) return;
    void l1.set(key, output, { ttlMs: Math.min(l1Ttl, ms), tags: tagHashes });
  };

  /**
   * Before a fill asks upstream: its tags are linked in Redis and its fence read, so an
   * invalidation from now on keeps its answer out of L2. Undefined when Redis did not answer.
   */
  async function beginFill(key: string, tags: () => readonly string[]): Promise<FillStart | undefined> {
    const at = performance.now();
    try {
      return { at, ticket: await store.beginFill(key, tags()) };
    } catch {
      return undefined;
    }
  }

  /** One background refresh of a stale entry per key and process, under the fleet lock, with its own deadline. */
  function refresh(next: Handler, call: Call, key: string, tags: () => readonly string[]): void {
    if (refreshing.has(key)) return;
    refreshing.add(key);
    background(
      (async () => {
        const token = randomUUID();
        if (lock && !(await store.lock(key, token, lock.ttlMs))) return;
        const seen = invalidations;
        const started = await beginFill(key, tags);
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(new PresenceTimeoutError(call.timeoutMs, { operation: call.operation.name })), call.timeoutMs);
        try {
          const { response, output } = await next({ ...call, signal: controller.signal, deadline: performance.now() + call.timeoutMs });
          const frozen = deepFreeze(output);
          setL1(key, frozen, ttlMs, tags, seen);
          if (response && started) await writeL2(key, response.body, tags, lock ? token : undefined, started, frozen);
          else if (lock) await release(key, token);
        } catch (error) {
          // Never silent: the caller already has its (stale) answer, so the failure is told here.
          emitAll('cacheRefreshFailed', { operation: call.operation.name, store: 'redis', ...(PresenceError.isInstance(error) ? { error } : {}) });
          if (lock) await release(key, token);
        } finally {
          clearTimeout(timer);
        }
      })().finally(() => refreshing.delete(key)),
    );
  }

  async function fill(next: Handler, call: Call, key: string, flight: FlightScope, config: ResolvedConfig, seen: number): Promise<Filled> {
    // Tags are needed only to write: computed on first use, not on an L2 hit without L1.
    let tagList: readonly string[] | undefined;
    const tags = (): readonly string[] => (tagList ??= cacheTagsOf(call.operation, call.params, config));
    // After one failed command this call leaves Redis alone: at most one deadline is added.
    let redisOk = true;

    const readL2 = async (): Promise<Decoded | undefined> => {
      let raw: string | undefined;
      try {
        raw = await store.get(key);
      } catch {
        redisOk = false;
        return undefined;
      }
      if (raw === undefined) return undefined;
      const decoded = decode(key, raw, call, config);
      if (!decoded) await discard(key);
      return decoded;
    };

    const l2 = await readL2();
    if (l2) {
      const age = now() - l2.at;
      if (swrMs > 0 && age >= l2.ttl) {
        refresh(next, call, key, tags);
        return { output: l2.output, result: 'stale' };
      }
      setL1(key, l2.output, l2.ttl - age, tags, seen);
      return { output: l2.output, result: 'hit_l2' };
    }

    // From here on this call may ask upstream: fenced against invalidations from now on.
    const started = redisOk ? await beginFill(key, tags) : undefined;
    if (!started) redisOk = false;
    let token: string | undefined;
    if (redisOk && lock) {
      // Take the lock, unless the value landed meanwhile; without a lock, wait for the holder's
      // value, or for the lock itself should the holder give up.
      const candidate = randomUUID();
      const hash = hashOf(key);
      const until = Date.now() + lock.waitMs;
      for (let first = true; ; first = false) {
        const left = until - Date.now();
        if (!first) {
          if (left <= 0) break;
          await waitForNotice(hash, Math.min(lock.pollMs, left), flight.signal);
        }
        let reply;
        try {
          reply = await store.lockOrGet(key, candidate, lock.ttlMs);
        } catch {
          redisOk = false;
          break;
        }
        if ('value' in reply) {
          const value = decode(key, reply.value, call, config);
          if (value) {
            setL1(key, value.output, value.ttl - (now() - value.at), tags, seen);
            return { output: value.output, result: 'coalesced' };
          }
          await discard(key);
          continue;
        }
        if (reply.locked) {
          token = candidate;
          break;
        }
      }
    }

    let result;
    try {
      result = await next(deriveCall(call, { scope: flight }));
    } catch (error) {
      // Errors are never cached; let the next waiter take over at once.
      if (token !== undefined) background(release(key, token));
      throw error;
    }
    const output = deepFreeze(result.output);
    setL1(key, output, ttlMs, tags, seen);
    if (redisOk && started && result.response) background(writeL2(key, result.response.body, tags, token, started, output));
    else if (token !== undefined) background(release(key, token));
    return { output, result: 'miss' };
  }

  /**
   * `{ fresh: true }`: upstream answers (a roster's seed must not be served from a cache), with no
   * lookup, lock or shared flight; the answer is still kept in both levels for the next caller.
   */
  async function fresh(next: Handler, call: Call, key: string, config: ResolvedConfig): Promise<{ output: unknown }> {
    const tags = (): readonly string[] => cacheTagsOf(call.operation, call.params, config);
    // Fenced like any fill: an invalidation while it asks upstream keeps its answer out of both levels.
    const seen = invalidations;
    const started = await beginFill(key, tags);
    const result = await next(call);
    const output = deepFreeze(result.output);
    setL1(key, output, ttlMs, tags, seen);
    if (started && result.response) background(writeL2(key, result.response.body, tags, undefined, started, output));
    return { ...result, output };
  }

  async function invalidate(tags: readonly string[]): Promise<void> {
    const hashes = tags.map(hashOf);
    noteInvalidated(hashes);
    void l1?.invalidate(hashes);
    try {
      await store.invalidate(tags);
    } catch {
      return; // Redis is away: the L2 TTL bounds staleness there, and the bus is likely down too.
    }
    if (subscriber) await publish(invalidateChannel, JSON.stringify({ from: instanceId, tags: hashes })).catch(ignore);
  }

  return {
    name: 'redisCache',
    store,
    l1,
    async flush() {
      while (pending.size) await Promise.all([...pending]);
    },
    apply(stack) {
      if (stack.has('cache')) {
        throw new PresenceConfigurationError('plugins', 'redisCache: the stack already has a cache (memoryCache or redisCache); use one of them.');
      }
      const { events } = stack.context;
      const report = cacheReporter(events, 'redis');
      sinks.add(events);
      if (clients++ === 0) startBus();
      stack.onClose(async () => {
        sinks.delete(events);
        if (--clients > 0) return;
        await this.flush();
        await stopBus();
      });
      stack.add(
        (next, { config }) =>
          async (call) => {
            const { operation } = call;
            if (operation.kind === 'write') {
              const result = await next(call);
              const stale = operation.invalidates?.(call.params);
              if (stale) await invalidate(invalidationTagsOf(stale, config));
              return result;
            }
            const key = cacheKeyOf(operation, call.params, config);
            if (key === undefined) return next(call);
            if (call.fresh) return fresh(next, call, key, config);
            if (l1) {
              const cached = l1.get(key);
              if (cached !== undefined) {
                report(call, 'hit_l1');
                return { output: cached };
              }
            }
            // The flight's signal is made only if it goes upstream or waits: an L2 hit never pays for one.
            // A flight begun before an invalidation this process has seen is not joined: its answer
            // may predate the write. Keyed by the invalidation count, a new one starts instead.
            const seen = invalidations;
            const flightKey = seen === 0 ? key : `${seen} ${key}`;
            const { promise, leader } = flights.run(flightKey, { timeoutMs: call.timeoutMs, operation: operation.name }, (flight) =>
              fill(next, call, key, flight, config, seen),
            );
            if (!leader) {
              report(call, 'coalesced');
              return { output: (await promise).output };
            }
            // Noted now, so a caller whose deadline ends the call before the fill does still counts
            // as a lookup; the answer below refines it (an L2 hit, a stale answer).
            noteCacheResult(call, 'miss');
            let filled: Filled;
            try {
              filled = await promise;
            } catch (error) {
              // Neither level answered: a miss, even though going upstream then failed.
              report(call, 'miss');
              throw error;
            }
            report(call, filled.result);
            return { output: filled.output };
          },
        { name: 'cache', step: 'initialize', priority: 100 },
      );
    },
  };
}
