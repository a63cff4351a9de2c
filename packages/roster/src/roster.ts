import { PresenceConfigurationError, type JsonValue, type Plugin, type PresenceClient, type PresenceEvents } from '@presence/core';
import { addAnswerMiddleware, type AnswerSource } from './answer-middleware.js';
import { ChangeFeed } from './change-feed.js';
import { createRosterEngine, RosterClosedError, type RosterEngine, type RosterSource } from './roster-engine.js';
import type { RosterChannel, RosterDiff, RosterSnapshot } from './roster-state.js';
import { checkNameList, checkOptionsObject, checkPositiveInteger, checkPositiveMs, checkTimerMs, checkWatchTargets, checkNonNegativeMs, refuseSingularNames } from './options.js';

export interface RosterOptions {
  /** Channels to watch and answer for. */
  channels?: readonly string[];
  /** Channel groups to watch: their member channels are watched, and group questions answered. */
  channelGroups?: readonly string[];
  /**
   * Stop answering from memory when the roster has heard nothing from the service (no event, no
   * connect, no read) for this long. Default: no limit — a quiet channel is not a stale one.
   */
  maxStalenessMs?: number;
  /**
   * How old a here-now answer may already be when it arrives: PubNub caches them for 3 s (notes
   * §3.1), so the first read waits until the watch has covered that long, and events that old are
   * replayed on every read. Default 3000; 0 for a service without such a cache.
   */
  upstreamCacheMs?: number;
  /** Occupants per here-now page when seeding, 1–1000. Default 1000. */
  pageSize?: number;
  /** How often each watched group is read again, to notice member channels it lost. Default 30 000 ms. */
  groupRefreshMs?: number;
  /** After a write through this client (set state, leave, heartbeat with state), answers for its channels wait this long for its event. Default 1000 ms. */
  writeFenceMs?: number;
  /** Clock in milliseconds (monotonic), for tests. Default `performance.now`. */
  now?: () => number;
}

/** The roster itself: what it holds, when it is ready, what changes. */
export interface RosterHandle<S = JsonValue> {
  /** Resolves when every watched channel and group has been seeded; rejects with RosterClosedError if closed first. */
  readonly ready: Promise<void>;
  /** A channel's occupants (in the service's order: join order) and occupancy as the roster holds them; undefined if not watched or not seeded yet. */
  get(channel: string): RosterChannel<S> | undefined;
  /** Every channel at the current version: with `changes()` (started in the same tick) a reader misses nothing. */
  snapshot(): RosterSnapshot<S>;
  /** The diffs from now on, one per change of a channel, in version order. Ends on `break`, on `signal`, or at close(). */
  changes(options?: { signal?: AbortSignal }): AsyncIterableIterator<RosterDiff<S>>;
  /** The version of the last diff. */
  readonly version: number;
  /** Milliseconds since the roster last heard from the service; Infinity before it first did. */
  stalenessMs(): number;
  /** Stops the watch, ends every `changes()` reader and settles `ready`. Also runs when the client closes. */
  close(): Promise<void>;
}

export interface RosterPlugin<S = JsonValue> extends Plugin, RosterHandle<S> {}

interface ResolvedRosterOptions {
  channels: string[];
  channelGroups: string[];
  maxStalenessMs: number;
  upstreamCacheMs: number;
  pageSize: number;
  groupRefreshMs: number;
  writeFenceMs: number;
  now: () => number;
}

export function resolveRosterOptions(name: string, options: RosterOptions): ResolvedRosterOptions {
  const opts = checkOptionsObject(name, options);
  refuseSingularNames(name, opts);
  const channels = checkNameList(`${name}.channels`, opts.channels, 'channel');
  const channelGroups = checkNameList(`${name}.channelGroups`, opts.channelGroups, 'channel group');
  checkWatchTargets(name, channels, channelGroups);
  if (opts.now !== undefined && typeof opts.now !== 'function') throw new PresenceConfigurationError(`${name}.now`, `${name}.now must be a function returning milliseconds, e.g. () => performance.now().`);
  return {
    channels,
    channelGroups,
    maxStalenessMs: checkPositiveMs(`${name}.maxStalenessMs`, opts.maxStalenessMs, Number.POSITIVE_INFINITY),
    upstreamCacheMs: checkNonNegativeMs(`${name}.upstreamCacheMs`, opts.upstreamCacheMs, 3000),
    pageSize: checkPositiveInteger(`${name}.pageSize`, opts.pageSize, 1000, 1000),
    groupRefreshMs: checkTimerMs(`${name}.groupRefreshMs`, opts.groupRefreshMs, 30_000),
    writeFenceMs: checkNonNegativeMs(`${name}.writeFenceMs`, opts.writeFenceMs, 1000),
    now: (opts.now as (() => number) | undefined) ?? (() => performance.now()),
  };
}

/** The parts of a live roster a plugin needs besides the engine: the fence of writes not yet seen. */
export function createWriteFence(now: () => number, fenceMs: number) {
  const fences = new Map<string, { userId: string; until: number }>();
  return {
    note(channel: string, userId: string): void {
      if (fenceMs > 0) fences.set(channel, { userId, until: now() + fenceMs });
    },
    /** The write's own event arrived: the roster has caught up with it. */
    seen(channel: string, userId: string | undefined): void {
      const fence = fences.get(channel);
      if (fence && (userId === undefined || fence.userId === userId)) fences.delete(channel);
    },
    holds(channel: string): boolean {
      const fence = fences.get(channel);
      if (!fence) return false;
      if (now() < fence.until) return true;
      fences.delete(channel);
      return false;
    },
  };
}

/**
 * A live, exact roster of the watched channels (DESIGN §7), as a plugin: it watches their presence
 * events through the client it is added to, seeds from paged here-now reads that go upstream
 * (`fresh`: no cache answers them), and then answers `hereNow` for those channels from memory,
 * ahead of any cache, in the same shape as the REST answer. A question it cannot answer exactly
 * goes on down the stack unchanged.
 *
 * ```ts
 * const live = roster({ channels: ['lobby'] });
 * const presence = createPresence({ …, plugins: [retry(), live, memoryCache()] });
 * await live.ready;
 * await presence.hereNow({ channels: ['lobby'] });   // from memory
 * for await (const diff of live.changes({ signal })) …
 * ```
 */
export function roster<S = JsonValue>(options: RosterOptions = {}): RosterPlugin<S> {
  const resolved = resolveRosterOptions('roster', options);
  const { now } = resolved;
  const feed = new ChangeFeed<RosterDiff<S>>();
  const fence = createWriteFence(now, resolved.writeFenceMs);
  const watched = new Set(resolved.channels);
  const watchedGroups = new Set(resolved.channelGroups);
  let engine: RosterEngine<S> | undefined;
  let events: PresenceEvents | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  let readyWaiters: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (readyWaiters = { resolve, reject }));
  ready.catch(() => {});

  const stalenessMs = (): number => (engine ? Math.max(0, now() - engine.lastContactAt) : Number.POSITIVE_INFINITY);

  const source: AnswerSource<S> = {
    watches: (channel) => watched.has(channel) || [...watchedGroups].some((g) => engine?.groupChannels(g)?.includes(channel)),
    watchesGroup: (group) => watchedGroups.has(group),
    channel: (name) => (engine?.knows(name) ? engine.state.getOrEmpty(name) : undefined),
    groupChannels: (group) => engine?.groupChannels(group),
    unavailable() {
      if (!engine || !engine.connected) return 'not_ready';
      return stalenessMs() > resolved.maxStalenessMs ? 'stale' : undefined;
    },
    doubtful(channel) {
      if (!engine?.knows(channel)) return 'not_ready';
      return fence.holds(channel) ? 'write_fence' : undefined;
    },
    stalenessMs,
    noteWrite(channels, channelGroups, userId) {
      for (const channel of channels) if (watched.has(channel) || engine?.state.has(channel)) fence.note(channel, userId);
      for (const group of channelGroups) for (const channel of engine?.groupChannels(group) ?? []) fence.note(channel, userId);
    },
  };

  const plugin: RosterPlugin<S> = {
    name: 'roster',
    apply(stack) {
      if (events) throw new PresenceConfigurationError('plugins', 'roster: this roster is already part of a client; a roster serves one client (create one per client).');
      events = stack.context.events;
      addAnswerMiddleware(stack, source, 'memory');
      stack.onClose(() => plugin.close());
    },
    attach(client: PresenceClient<S>) {
      if (engine || closed) return;
      const client_ = client as unknown as Partial<RosterSource<S>>;
      if (typeof client_.watch !== 'function' || typeof client_.hereNowPages !== 'function' || typeof client_.hereNow !== 'function') {
        throw new PresenceConfigurationError('plugins', 'roster: the client has no watch() or hereNowPages(); use a @presence/core version with presence events.');
      }
      engine = createRosterEngine<S>({
        source: client_ as RosterSource<S>,
        ...resolved,
        onEvent: (event) => fence.seen(event.channel, 'userId' in event ? event.userId : undefined),
        onDiff: (diff) => feed.publish(diff),
        onSeed: (report) => events?.emit('rosterSeed', report),
      });
      engine.ready.then(readyWaiters!.resolve, readyWaiters!.reject);
    },
    ready,
    get: (channel) => engine?.state.get(channel),
    snapshot: () => engine?.state.snapshot() ?? { version: 0, channels: {} },
    changes: (changeOptions = {}) => feed.subscribe(changeOptions.signal),
    get version() {
      return engine?.state.version ?? 0;
    },
    stalenessMs,
    close() {
      // Every caller (the client's close, the user's) waits for the same, complete end.
      closing ??= (async () => {
        closed = true;
        feed.close();
        if (engine) await engine.close();
        else readyWaiters!.reject(new RosterClosedError());
      })();
      return closing;
    },
  };
  return plugin;
}
