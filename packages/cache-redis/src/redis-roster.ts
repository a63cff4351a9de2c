import { randomUUID } from 'node:crypto';
import { PresenceConfigurationError, type JsonValue, type PresenceClient, type PresenceEvents, type ResolvedConfig, type RosterRole } from '@presence/core';
import {
  addAnswerMiddleware,
  ChangeFeed,
  createRosterEngine,
  createWriteFence,
  resolveRosterOptions,
  RosterClosedError,
  RosterState,
  type AnswerSource,
  type RosterChannel,
  type RosterDiff,
  type RosterEngine,
  type RosterOccupant,
  type RosterOptions,
  type RosterPlugin,
  type RosterSnapshot,
  type RosterSource,
} from '@presence/roster';
import type { Redis } from 'ioredis';
import { createCommandGuard, type RedisClient } from './command-guard.js';
import { checkObject, checkPositive, checkPrefix, checkRedisClient, MAX_TIMER_MS } from './options.js';
import { hashOf } from './redis-store.js';

export interface RedisRosterOptions extends Omit<RosterOptions, 'now'> {
  /** A connected ioredis `Redis` or `Cluster`, shared with the application; never closed by the roster. */
  redis: RedisClient;
  /**
   * How long the leader's lease lasts without renewal (renewed every third of it). A dead or
   * stalled leader is replaced within about this long. Default 5000 ms.
   */
  leaseMs?: number;
  /**
   * A mirror whose leader has been silent this long stops answering from memory and lets calls fall
   * through (to the cache, then upstream). Default: `leaseMs`.
   */
  maxStalenessMs?: number;
  /** Prefix of every Redis key and channel. Default `presence:`. */
  prefix?: string;
  /** Deadline of each Redis command. Default 250 ms. */
  commandTimeoutMs?: number;
  /** Connection for the diff channel. Default: `redis.duplicate()`, closed with the client. */
  subscriber?: RedisClient;
}

export interface RedisRosterPlugin<S = JsonValue> extends RosterPlugin<S> {
  /** `leader` runs the roster for the fleet, `mirror` follows it, `none` before the first try or after close(). */
  readonly role: RosterRole;
}

/** What travels on the diff channel. States are the serializer's JSON text; nothing else but user ids and channel names. */
type BusMessage =
  | { k: 'diff'; t: number; v: number; c: string; j: string[]; l: string[]; o: string[]; u: string[]; s: Record<string, string>; n: number }
  | ({ k: 'status'; t: number; v: number } & Status);

interface Status {
  /** Channels the leader doubts (waiting for a read). */
  d: string[];
  /** Groups whose members the leader does not know exactly. */
  dg: string[];
  /** Each watched group's member channels. */
  g: Record<string, string[]>;
}

interface StoredSnapshot extends Status {
  t: number;
  v: number;
  ch: Record<string, Array<[string, string | null]>>;
}

// Lua keeps each step atomic and fenced: only the holder of the lease may renew it, write the
// snapshot or publish. KEYS share one hash tag, so this works on Redis Cluster too.
const ACQUIRE = `if redis.call('exists', KEYS[1]) == 1 then return 0 end
local token = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1] .. ':' .. token, 'NX', 'PX', ARGV[2])
return token`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  redis.call('pexpire', KEYS[2], ARGV[3])
  return 1
end
return 0`;
const FENCED_SET = `if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0`;
const FENCED_PUBLISH = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('publish', ARGV[2], ARGV[3]) end
return -1`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

const ignore = (): void => {};

/**
 * One roster for a whole fleet (DESIGN §7). Every replica adds `redisRoster()`; one of them holds a
 * lease in Redis (`SET NX PX`, renewed, with a fencing token), watches the channels and runs the
 * roster; it writes a versioned snapshot and publishes every diff. The others mirror it in memory
 * (snapshot, then diffs in version order; a gap re-reads the snapshot) and answer here-now from the
 * mirror. A leader that dies or stalls is replaced within about `leaseMs`, and the new one re-seeds.
 * A mirror whose leader is silent longer than `maxStalenessMs` — or that cannot reach Redis —
 * stops answering, and calls fall through to the cache and upstream: never a caller error.
 */
export function redisRoster<S = JsonValue>(options: RedisRosterOptions): RedisRosterPlugin<S> {
  const opts = checkObject('redisRoster', options);
  checkRedisClient('redisRoster.redis', opts.redis);
  const redis = opts.redis as RedisClient;
  const leaseMs = checkPositive('redisRoster.leaseMs', opts.leaseMs, 5000, MAX_TIMER_MS);
  const { redis: _redis, leaseMs: _lease, prefix: _prefix, commandTimeoutMs: _timeout, subscriber: _subscriber, ...rosterOptions } = opts as unknown as RedisRosterOptions;
  void [_redis, _lease, _prefix, _timeout, _subscriber];
  const resolved = resolveRosterOptions('redisRoster', { ...rosterOptions, maxStalenessMs: rosterOptions.maxStalenessMs ?? leaseMs });
  const prefix = checkPrefix('redisRoster.prefix', opts.prefix);
  const commandTimeoutMs = checkPositive('redisRoster.commandTimeoutMs', opts.commandTimeoutMs, 250);
  if (opts.subscriber !== undefined) checkRedisClient('redisRoster.subscriber', opts.subscriber);
  const subscriberOption = opts.subscriber as RedisClient | undefined;
  const now = (): number => performance.now();

  const instanceId = randomUUID();
  const feed = new ChangeFeed<RosterDiff<S>>();
  const fence = createWriteFence(now, resolved.writeFenceMs);
  const explicit = new Set(resolved.channels);
  const watchedGroups = new Set(resolved.channelGroups);
  const mirror = new RosterState<S>();
  let status: { doubtful: Set<string>; doubtfulGroups: Set<string>; groups: Map<string, string[]> } = { doubtful: new Set(), doubtfulGroups: new Set(watchedGroups), groups: new Map() };

  let role: RosterRole = 'none';
  let client: PresenceClient<S> | undefined;
  let events: PresenceEvents | undefined;
  let config: ResolvedConfig | undefined;
  let engine: RosterEngine<S> | undefined;
  let leaseValue: string | undefined;
  let leaderToken = 0;
  let lastRenewSentAt = 0;
  let hadLeader = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let subscriber: RedisClient | undefined;
  let resubscribe: (() => void) | undefined;

  // Mirror bookkeeping: which leader's data we hold, up to which version, and what arrived ahead.
  let wantToken = 0;
  let followToken = 0;
  let loaded = false;
  /** The newest version the current leader has announced: a snapshot older than that is not loaded. */
  let announcedVersion = 0;
  let lastContactAt = Number.NEGATIVE_INFINITY;
  const pending = new Map<number, Extract<BusMessage, { k: 'diff' }>>();
  let reloading: Promise<void> | undefined;
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;

  // Keys of this roster: the watched set (and subscribe key) decide which fleet shares it; hashed, so no name shows.
  let keys: { lease: string; token: string; snapshot: string; bus: string } | undefined;
  const snapshotTtlMs = Math.max(60_000, 10 * leaseMs);

  const guard = createCommandGuard({ redis, commandTimeoutMs, circuitBreaker: false, onFailure: (reason) => events?.emit('cacheError', { store: 'redis-roster', reason }) });
  const evalIn = (script: string, keyList: string[], args: Array<string | number>): Promise<unknown> => guard.run((r: Redis) => r.eval(script, keyList.length, ...keyList, ...args));

  let readyResolve!: () => void;
  let readyReject!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  ready.catch(ignore);
  const checkReady = (): void => {
    if (role === 'mirror' && loaded && status.doubtful.size === 0 && status.doubtfulGroups.size === 0) readyResolve();
  };

  const setRole = (next: RosterRole): void => {
    if (role === next) return;
    role = next;
    events?.emit('rosterLeader', { role });
  };

  // --- encoding ---------------------------------------------------------------------------------

  const encodeState = (state: S): string => config!.serializer.encode(state);
  const decodeState = (text: string): S => config!.serializer.decode(JSON.parse(text) as JsonValue) as S;

  const encodeSnapshot = (snapshot: RosterSnapshot<S>, current: Status): string => {
    const ch: StoredSnapshot['ch'] = {};
    for (const [name, occupants] of Object.entries(snapshot.channels)) ch[name] = occupants.map((o) => [o.userId, o.state === undefined ? null : encodeState(o.state)]);
    return JSON.stringify({ t: leaderToken, v: snapshot.version, ch, ...current } satisfies StoredSnapshot);
  };

  const leaderStatus = (): Status => ({
    d: engine?.doubtfulChannels() ?? [...explicit],
    dg: engine?.doubtfulGroups() ?? [...watchedGroups],
    g: Object.fromEntries([...watchedGroups].map((g) => [g, [...(engine?.groupChannels(g) ?? [])]])),
  });

  // --- leader -----------------------------------------------------------------------------------

  let snapshotDue: ReturnType<typeof setTimeout> | undefined;
  let statusDue = false;
  const scheduleSnapshot = (): void => {
    if (snapshotDue || role !== 'leader') return;
    // Coalesced: a burst of diffs costs one snapshot write. Mirrors need it only after a gap.
    snapshotDue = setTimeout(() => {
      snapshotDue = undefined;
      void writeSnapshot();
    }, 25);
  };

  async function writeSnapshot(): Promise<void> {
    if (role !== 'leader' || !engine || !keys || !leaseValue) return;
    const text = encodeSnapshot(engine.state.snapshot(), leaderStatus());
    await evalIn(FENCED_SET, [keys.lease, keys.snapshot], [leaseValue, text, snapshotTtlMs]).catch(ignore);
  }

  const publish = (message: BusMessage): void => {
    if (!keys || !leaseValue) return;
    void evalIn(FENCED_PUBLISH, [keys.lease], [leaseValue, keys.bus, JSON.stringify(message)]).catch(ignore);
  };

  const publishStatus = (): void => {
    if (role !== 'leader' || !engine) return;
    publish({ k: 'status', t: leaderToken, v: engine.state.version, ...leaderStatus() });
  };

  function becomeLeader(token: number): void {
    leaderToken = token;
    leaseValue = `${instanceId}:${token}`;
    lastRenewSentAt = now();
    loaded = false;
    pending.clear();
    setRole('leader');
    const source = client as unknown as RosterSource<S>;
    engine = createRosterEngine<S>({
      source,
      ...resolved,
      firstSeedReason: hadLeader || wantToken > 0 ? 'takeover' : 'initial',
      // Versions go on from what the fleet has seen, so a reader of changes() never sees them go back.
      startVersion: Math.max(mirror.version, announcedVersion),
      onEvent: (event) => fence.seen(event.channel, 'userId' in event ? event.userId : undefined),
      onDiff: (diff) => {
        feed.publish(diff);
        const s: Record<string, string> = {};
        for (const [userId, state] of Object.entries(diff.states)) s[userId] = encodeState(state);
        publish({ k: 'diff', t: leaderToken, v: diff.version, c: diff.channel, j: [...diff.joined], l: [...diff.left], o: [...diff.timedOut], u: [...diff.updated], s, n: diff.occupancy });
        scheduleSnapshot();
      },
      onStatus: () => {
        // Several status changes in one turn go out as one message.
        if (statusDue) return;
        statusDue = true;
        queueMicrotask(() => {
          statusDue = false;
          publishStatus();
          scheduleSnapshot();
        });
      },
      onSeed: (report) => events?.emit('rosterSeed', report),
    });
    engine.ready.then(() => {
      if (role === 'leader') readyResolve();
    }, ignore);
    hadLeader = true;
    void writeSnapshot();
  }

  function stepDown(): void {
    if (role !== 'leader') return;
    const stopping = engine;
    engine = undefined;
    leaseValue = undefined;
    if (snapshotDue) clearTimeout(snapshotDue);
    snapshotDue = undefined;
    setRole(closed ? 'none' : 'mirror');
    void stopping?.close();
  }

  async function tick(): Promise<void> {
    if (closed || !keys) return;
    if (role === 'leader' && leaseValue) {
      const sentAt = now();
      try {
        const renewed = await evalIn(RENEW, [keys.lease, keys.snapshot], [leaseValue, leaseMs, snapshotTtlMs]);
        if (renewed === 1) {
          lastRenewSentAt = sentAt;
          publishStatus();
        } else stepDown();
      } catch {
        // Unconfirmed: step down before the lease can lapse, so that a new leader never overlaps this one.
        if (now() - lastRenewSentAt > (leaseMs * 2) / 3) stepDown();
      }
      return;
    }
    if (role === 'none') setRole('mirror');
    try {
      const token = Number(await evalIn(ACQUIRE, [keys.lease, keys.token], [instanceId, leaseMs]));
      if (token > 0 && !closed) becomeLeader(token);
    } catch {
      // Redis unreachable: stay a mirror; it goes stale and calls fall through.
    }
    if (role === 'mirror' && !loaded && !reloading) scheduleReload(0);
  }

  // --- mirror -----------------------------------------------------------------------------------

  const onBus = (channel: string, raw: string): void => {
    if (!keys || channel !== keys.bus || role === 'leader') return;
    let message: BusMessage;
    try {
      message = JSON.parse(raw) as BusMessage;
      if (typeof message !== 'object' || message === null || typeof message.t !== 'number' || typeof message.v !== 'number') return;
    } catch {
      return;
    }
    if (message.t < wantToken) return; // a deposed leader (its writes are fenced; this is only a late message)
    if (message.t > wantToken) {
      // A new leader: what we hold is the old one's, and its versions count from another start.
      wantToken = message.t;
      loaded = false;
      pending.clear();
      announcedVersion = 0;
    }
    lastContactAt = now();
    // A diff's own version is reached by applying it; a status says the leader is already there.
    announcedVersion = Math.max(announcedVersion, message.k === 'diff' ? message.v - 1 : message.v);
    if (message.k === 'status') {
      // The leader is further on than we are (a diff lost, or sent before we subscribed): reload.
      if (loaded && message.t === followToken && message.v > mirror.version && !pending.has(mirror.version + 1)) loaded = false;
      if (loaded && message.t === followToken) applyStatus(message);
      else scheduleReload(0);
      return;
    }
    if (message.k === 'diff') {
      pending.set(message.v, message);
      drain();
    }
  };

  const applyStatus = (next: Status): void => {
    status = { doubtful: new Set(next.d), doubtfulGroups: new Set(next.dg), groups: new Map(Object.entries(next.g)) };
    checkReady();
  };

  function drain(): void {
    if (!loaded) {
      scheduleReload(0);
      return;
    }
    for (;;) {
      const next = pending.get(mirror.version + 1);
      if (!next) break;
      pending.delete(next.v);
      const diff = decodeDiff(next);
      const outcome = diff ? mirror.applyDiff(diff) : 'gap';
      if (outcome === 'gap') {
        loaded = false;
        scheduleReload(0);
        return;
      }
      if (diff) {
        for (const userId of [...diff.joined, ...diff.left, ...diff.timedOut, ...diff.updated]) fence.seen(diff.channel, userId);
        feed.publish(diff);
      }
    }
    for (const version of pending.keys()) if (version <= mirror.version) pending.delete(version);
    // Something newer than the next one: a diff was lost on the way (pub/sub does not redeliver).
    if (pending.size > 0) {
      loaded = false;
      scheduleReload(0);
    }
  }

  const decodeDiff = (m: Extract<BusMessage, { k: 'diff' }>): RosterDiff<S> | undefined => {
    try {
      const states: Record<string, S> = Object.create(null) as Record<string, S>;
      for (const [userId, text] of Object.entries(m.s)) states[userId] = decodeState(text);
      return { channel: m.c, joined: m.j, left: m.l, timedOut: m.o, updated: m.u, states, occupancy: m.n, version: m.v };
    } catch {
      return undefined;
    }
  };

  function scheduleReload(delayMs: number): void {
    if (reloading || reloadTimer || closed || role === 'leader') return;
    reloadTimer = setTimeout(() => {
      reloadTimer = undefined;
      reloading = reload().finally(() => (reloading = undefined));
    }, delayMs);
  }

  async function reload(): Promise<void> {
    if (!keys) return;
    let raw: string | null;
    try {
      raw = await guard.run((r: Redis) => r.get(keys!.snapshot));
    } catch {
      return; // unreachable: stays unloaded; the next message or tick tries again
    }
    if (closed || role === 'leader' || raw === null) return;
    let stored: StoredSnapshot;
    let snapshot: RosterSnapshot<S>;
    try {
      stored = JSON.parse(raw) as StoredSnapshot;
      const channels: Record<string, RosterOccupant<S>[]> = {};
      for (const [name, occupants] of Object.entries(stored.ch)) channels[name] = occupants.map(([userId, text]) => (text === null ? { userId } : { userId, state: decodeState(text) }));
      snapshot = { version: stored.v, channels };
    } catch {
      return;
    }
    if (stored.t < wantToken || (stored.t === wantToken && stored.v < announcedVersion)) {
      // The (new) leader has not written a recent enough snapshot yet: look again shortly.
      scheduleReload(50);
      return;
    }
    wantToken = stored.t;
    followToken = stored.t;
    // A snapshot older than what we already follow would move us back: keep ours, replay on.
    if (loaded && stored.v <= mirror.version) return;
    for (const diff of mirror.replace(snapshot)) feed.publish(diff);
    loaded = true;
    applyStatus(stored);
    drain();
  }

  // --- answering ----------------------------------------------------------------------------------

  const inGroups = (channel: string): boolean =>
    [...watchedGroups].some((g) => (role === 'leader' ? engine?.groupChannels(g) : status.groups.get(g))?.includes(channel) ?? false);

  const mirrorKnows = (channel: string): boolean => loaded && !status.doubtful.has(channel) && (explicit.has(channel) || inGroups(channel) || mirror.has(channel));

  const stalenessMs = (): number => {
    if (role === 'leader') return engine ? Math.max(0, now() - engine.lastContactAt) : Number.POSITIVE_INFINITY;
    return Math.max(0, now() - lastContactAt);
  };

  const source: AnswerSource<S> = {
    watches: (channel) => explicit.has(channel) || inGroups(channel),
    watchesGroup: (group) => watchedGroups.has(group),
    channel(name) {
      if (role === 'leader') return engine?.knows(name) ? engine.state.getOrEmpty(name) : undefined;
      // A watched channel the leader does not doubt and the snapshot does not list is empty.
      return mirrorKnows(name) ? mirror.getOrEmpty(name) : undefined;
    },
    groupChannels(group) {
      if (role === 'leader') return engine?.groupChannels(group);
      return loaded && !status.doubtfulGroups.has(group) ? status.groups.get(group) : undefined;
    },
    unavailable() {
      if (role === 'leader') return engine?.connected ? undefined : 'not_ready';
      if (role !== 'mirror' || !loaded) return 'not_ready';
      return stalenessMs() > resolved.maxStalenessMs ? 'stale' : undefined;
    },
    doubtful(channel) {
      const known = role === 'leader' ? engine?.knows(channel) === true : mirrorKnows(channel);
      if (!known) return 'not_ready';
      return fence.holds(channel) ? 'write_fence' : undefined;
    },
    stalenessMs,
    noteWrite(channels, channelGroups, userId) {
      for (const channel of channels) if (explicit.has(channel) || inGroups(channel)) fence.note(channel, userId);
      for (const group of channelGroups) for (const channel of source.groupChannels(group) ?? []) fence.note(channel, userId);
    },
  };

  const plugin: RedisRosterPlugin<S> = {
    name: 'redisRoster',
    apply(stack) {
      if (events) throw new PresenceConfigurationError('plugins', 'redisRoster: this roster is already part of a client; each replica creates its own.');
      events = stack.context.events;
      config = stack.context.config;
      const scope = hashOf(JSON.stringify([config.subscribeKey, [...explicit].sort(), [...watchedGroups].sort()]));
      const base = `${prefix}{roster:${scope}}`;
      keys = { lease: `${base}:lease`, token: `${base}:token`, snapshot: `${base}:snapshot`, bus: `${base}:diffs` };
      addAnswerMiddleware(stack, source, () => (role === 'leader' ? 'memory' : 'mirror'));
      stack.onClose(() => plugin.close());
    },
    attach(attached) {
      if (client || closed) return;
      const candidate = attached as unknown as Partial<RosterSource<S>>;
      if (typeof candidate.watch !== 'function' || typeof candidate.hereNowPages !== 'function') {
        throw new PresenceConfigurationError('plugins', 'redisRoster: the client has no watch() or hereNowPages(); use a @presence/core version with presence events.');
      }
      client = attached as PresenceClient<S>;
      subscriber = subscriberOption ?? redis.duplicate();
      subscriber.on('error', ignore);
      subscriber.on('message', onBus);
      const sub = subscriber;
      const subscribe = (): void => void sub.subscribe(keys!.bus).catch(ignore);
      resubscribe = subscribe;
      sub.on('ready', subscribe);
      if (sub.status === 'ready' || sub.options?.enableOfflineQueue !== false) subscribe();
      timer = setInterval(() => void tick(), Math.max(10, Math.floor(leaseMs / 3)));
      timer.unref?.();
      void tick();
    },
    ready,
    get(channel): RosterChannel<S> | undefined {
      if (role === 'leader') return engine?.state.get(channel);
      return mirrorKnows(channel) ? mirror.getOrEmpty(channel) : undefined;
    },
    snapshot: () => (role === 'leader' && engine ? engine.state.snapshot() : mirror.snapshot()),
    changes: (changeOptions = {}) => feed.subscribe(changeOptions.signal),
    get version() {
      return role === 'leader' ? (engine?.state.version ?? 0) : mirror.version;
    },
    get role() {
      return role;
    },
    stalenessMs,
    close() {
      // Every caller (the client's close, the user's) waits for the same, complete end.
      closing ??= shutDown();
      return closing;
    },
  };

  async function shutDown(): Promise<void> {
    closed = true;
    if (timer) clearInterval(timer);
    if (reloadTimer) clearTimeout(reloadTimer);
    const wasLeader = role === 'leader' ? leaseValue : undefined;
    const stopping = engine;
    stepDown();
    setRole('none');
    feed.close();
    readyReject(new RosterClosedError());
    // Hand the lease over at once rather than make the fleet wait for it to lapse.
    if (wasLeader && keys) await evalIn(RELEASE, [keys.lease], [wasLeader]).catch(ignore);
    await stopping?.close();
    await reloading;
    const sub = subscriber;
    subscriber = undefined;
    if (sub) {
      sub.off('message', onBus);
      if (resubscribe) sub.off('ready', resubscribe);
      // A given subscriber stays the application's: it is only unsubscribed, under a deadline like every command.
      if (subscriberOption) await createCommandGuard({ redis: sub, commandTimeoutMs, circuitBreaker: false }).run((r: Redis) => r.unsubscribe(keys!.bus)).catch(ignore);
      else sub.disconnect();
    }
  }
  return plugin;
}
