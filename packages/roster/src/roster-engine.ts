import type { CallOptions, HereNowInput, HereNowPage, HereNowPagesInput, HereNowResult, PresenceEvent, RosterSeedReason, WatchOptions } from '@presence/core';
import { RosterState, type RosterDiff, type RosterOccupant } from './roster-state.js';

/** What the roster needs of a client: the live events and paged here-now reads. `createPresence()`'s client has both. */
export interface RosterSource<S> {
  watch(options: WatchOptions<S>): AsyncIterable<PresenceEvent<S>>;
  hereNowPages(input: HereNowPagesInput, options?: CallOptions): AsyncIterable<HereNowPage<S>>;
  hereNow(input: HereNowInput, options?: CallOptions): Promise<HereNowResult<S>>;
}

/** Why the roster read here-now; bounded, so it can label a metric. */
export type SeedReason = RosterSeedReason;

export interface SeedReport {
  readonly reason: SeedReason;
  readonly outcome: 'success' | 'error';
  readonly channels: number;
  readonly durationMs: number;
}

export interface RosterEngineOptions<S> {
  source: RosterSource<S>;
  channels: readonly string[];
  channelGroups: readonly string[];
  /** How old a here-now answer may be when it arrives (the service's own cache): replayed events reach back this far. */
  upstreamCacheMs: number;
  pageSize: number;
  /** How often each watched group is read again, to notice member channels it lost. */
  groupRefreshMs: number;
  now: () => number;
  onDiff(diff: RosterDiff<S>): void;
  /** Every event as it arrives, before it is applied. */
  onEvent?(event: PresenceEvent<S>): void;
  onSeed(report: SeedReport): void;
  /** Called when the channels or groups the roster doubts, or a group's members, may have changed (a fleet leader tells its mirrors). */
  onStatus?(): void;
  /** The version diffs count on from. Default 0; a fleet's new leader continues after the versions its fleet has seen. */
  startVersion?: number;
  /** The reason reported for the first seed. Default `initial`; a fleet's new leader says `takeover`. */
  firstSeedReason?: SeedReason;
}

export interface RosterEngine<S> {
  readonly state: RosterState<S>;
  /** Resolves once every watched channel and group has been seeded the first time. */
  readonly ready: Promise<void>;
  /** Whether `channel` can be answered from memory now: seeded, and no event of it may have been missed since. */
  knows(channel: string): boolean;
  /** A watched group's member channels as last read, or undefined while it is not known exactly. */
  groupChannels(group: string): readonly string[] | undefined;
  /** Channels that are watched but may be wrong until their next read. */
  doubtfulChannels(): string[];
  /** Groups whose members are not known exactly now. */
  doubtfulGroups(): string[];
  /** When the roster last heard from the service (an event, a connect, a read), on `now`'s clock. */
  readonly lastContactAt: number;
  readonly connected: boolean;
  close(): Promise<void>;
}

/** `ready` rejects with this when the roster is closed before its first seed completed. */
export class RosterClosedError extends Error {
  override readonly name = 'RosterClosedError';
  constructor() {
    super('The roster was closed before it was seeded; nothing will be answered from it. Create a new roster to watch again.');
  }
}

// Events are kept this much longer than the service's cache time: a margin for timer lateness.
const REPLAY_MARGIN_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
const READ_CHANNELS = 100;

interface Buffered<S> {
  readonly at: number;
  readonly event: PresenceEvent<S>;
}

type ReadUnit = { kind: 'channels'; channels: string[] } | { kind: 'group'; group: string };

/**
 * Runs PubNub's roster recipe (notes §4; DESIGN §7) against a client:
 * 1. watch the channels' presence events and keep every event for a while;
 * 2. once the watch is connected and has covered the service's here-now cache time, read here-now
 *    (paged, with state, `fresh` so no cache or roster answers it) — one read at a time, never two;
 * 3. seed each channel from the read and replay the events that may be newer than it (idempotent);
 * 4. apply live events; an interval event with `hereNowRefresh`, or one whose occupancy disagrees
 *    with the roster, queues a new read of its channel; a reconnect (events may have been lost)
 *    queues a read of everything.
 * A channel waiting for a read is not answered from memory.
 */
export function createRosterEngine<S>(options: RosterEngineOptions<S>): RosterEngine<S> {
  const { source, now } = options;
  const explicit = new Set(options.channels);
  const groups = new Set(options.channelGroups);
  const state = new RosterState<S>(options.startVersion ?? 0);
  const controller = new AbortController();
  const { signal } = controller;

  let recent: Buffered<S>[] = [];
  let readStartedAt: number | undefined;
  /** Channels whose roster may be wrong until their next read. */
  const doubtful = new Set<string>();
  const groupMembers = new Map<string, Set<string>>();
  const doubtfulGroups = new Set<string>(groups);
  const wanted = { channels: new Set<string>(), groups: new Set<string>(), reasons: new Set<SeedReason>() };
  let connected = false;
  let everConnected = false;
  let epoch = 0;
  let coveredFrom = 0;
  /** A read that must see past something (a refresh) waits until the service's cache cannot hold an answer from before it. */
  let readNotBefore = 0;
  let lastContactAt = now();
  let onConnected: (() => void) | undefined;
  let seeding: Promise<void> | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;

  let resolveReady!: () => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // Nobody may be waiting on `ready` when close() rejects it: that is not an unhandled rejection.
  ready.catch(() => {});
  const checkReady = (): void => {
    if (doubtful.size === 0 && doubtfulGroups.size === 0 && [...explicit].every((c) => state.has(c))) resolveReady();
  };

  const emitDiff = (diff: RosterDiff<S> | undefined): void => {
    if (diff) options.onDiff(diff);
  };

  const requestSeed = (reason: SeedReason, channels: Iterable<string>, groupNames: Iterable<string> = [], markDoubtful = true): void => {
    for (const channel of channels) {
      wanted.channels.add(channel);
      if (markDoubtful) doubtful.add(channel);
    }
    for (const group of groupNames) {
      wanted.groups.add(group);
      if (markDoubtful) doubtfulGroups.add(group);
    }
    wanted.reasons.add(reason);
    if (markDoubtful) options.onStatus?.();
    kick();
  };

  const kick = (): void => {
    if (seeding || closed) return;
    seeding = seedLoop().finally(() => {
      seeding = undefined;
      if (!closed && (wanted.channels.size > 0 || wanted.groups.size > 0)) kick();
    });
  };

  const trim = (): void => {
    const keepFrom = (readStartedAt ?? now()) - options.upstreamCacheMs - REPLAY_MARGIN_MS;
    let drop = 0;
    while (drop < recent.length && recent[drop]!.at < keepFrom) drop++;
    if (drop > 0) recent = recent.slice(drop);
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });

  /** Waits until the watch is connected and has been for the service's cache time: only then can a read be replayed onto. */
  async function covered(): Promise<void> {
    for (;;) {
      if (closed) return;
      if (!connected) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            signal.removeEventListener('abort', done);
            onConnected = undefined;
            resolve();
          };
          onConnected = done;
          signal.addEventListener('abort', done, { once: true });
        });
        continue;
      }
      const wait = Math.max(coveredFrom + options.upstreamCacheMs, readNotBefore) - now();
      if (wait <= 0) return;
      await sleep(Math.min(wait, 1000));
    }
  }

  async function seedLoop(): Promise<void> {
    let failures = 0;
    while (!closed && (wanted.channels.size > 0 || wanted.groups.size > 0)) {
      await covered();
      if (closed) return;
      const reasons = [...wanted.reasons];
      const reason: SeedReason = reasons.includes('reconnect') ? 'reconnect' : reasons.includes('initial') ? 'initial' : reasons[0] ?? 'refresh';
      const units: ReadUnit[] = [];
      // Reads of at most READ_CHANNELS channels each, so no request outgrows the service's URL limit (notes §8).
      const channels = [...wanted.channels];
      for (let i = 0; i < channels.length; i += READ_CHANNELS) units.push({ kind: 'channels', channels: channels.slice(i, i + READ_CHANNELS) });
      for (const group of wanted.groups) units.push({ kind: 'group', group });
      wanted.channels.clear();
      wanted.groups.clear();
      wanted.reasons.clear();
      for (const [index, unit] of units.entries()) {
        const started = performance.now();
        const count = unit.kind === 'channels' ? unit.channels.length : 1;
        try {
          const completed = await read(unit);
          if (!completed) requeue([unit], reason);
          else {
            options.onSeed({ reason, outcome: 'success', channels: count, durationMs: performance.now() - started });
            checkReady();
          }
          failures = 0;
        } catch {
          if (closed) return;
          options.onSeed({ reason, outcome: 'error', channels: count, durationMs: performance.now() - started });
          // This unit and the ones not read yet go back in the queue; a failing read is retried with backoff.
          requeue(units.slice(index), reason);
          failures++;
          await sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 7)) * (0.5 + Math.random() / 2));
          break;
        }
      }
    }
  }

  const requeue = (units: ReadUnit[], reason: SeedReason): void => {
    for (const unit of units) {
      if (unit.kind === 'channels') for (const channel of unit.channels) wanted.channels.add(channel);
      else wanted.groups.add(unit.group);
    }
    wanted.reasons.add(reason);
  };

  /** One here-now read and the seeds it feeds. False when the connection changed meanwhile (its events may be gone). */
  async function read(unit: ReadUnit): Promise<boolean> {
    const readEpoch = epoch;
    readStartedAt = now();
    const seen = new Map<string, { occupancy: number; occupants: Map<string, RosterOccupant<S>> }>();
    try {
      let channels: readonly string[];
      if (unit.kind === 'channels') channels = unit.channels;
      else {
        // Paging reads named channels only: the group's read says which are its members (occupied ones, notes §3.1).
        const members = await source.hereNow({ channelGroups: [unit.group], includeUserIds: false }, { signal, fresh: true });
        channels = members.channels.map((c) => c.name);
      }
      if (channels.length > 0) {
        for await (const page of source.hereNowPages({ channels, includeState: true, pageSize: options.pageSize }, { signal, fresh: true })) {
          for (const channel of page.channels) {
            let entry = seen.get(channel.name);
            if (!entry) seen.set(channel.name, (entry = { occupancy: channel.occupancy, occupants: new Map() }));
            entry.occupancy = channel.occupancy;
            for (const occupant of channel.occupants) entry.occupants.set(occupant.userId, occupant);
          }
        }
      }
      if (closed || epoch !== readEpoch || !connected) return false;
      lastContactAt = now();
      const replayFrom = readStartedAt - options.upstreamCacheMs - REPLAY_MARGIN_MS;
      const window = recent.filter((b) => b.at >= replayFrom);
      const replay = window.map((b) => b.event);
      const names = channels;
      if (unit.kind === 'group') {
        const before = groupMembers.get(unit.group) ?? new Set<string>();
        const after = new Set(names);
        groupMembers.set(unit.group, after);
        // A member the read no longer lists is empty or has left the group: either way it is not this group's now.
        for (const gone of before) if (!after.has(gone) && !watchedElsewhere(gone)) forget(gone);
      }
      for (const name of names) {
        // Pages are read one after another: someone who moved between them may be counted twice or missed.
        const entry = seen.get(name);
        const occupants = entry ? [...entry.occupants.values()] : [];
        emitDiff(state.seed(name, occupants, replay));
        const verdict = verify(name, entry, window);
        if (verdict === 'exact' && !wanted.channels.has(name)) doubtful.delete(name);
        else if (verdict !== 'exact') {
          // Read again, late enough that the service's cache cannot hand back an answer from before the doubt.
          readNotBefore = Math.max(readNotBefore, verdict.since + options.upstreamCacheMs + REPLAY_MARGIN_MS + 1);
          requestSeed('mismatch', [name]);
        }
      }
      if (unit.kind === 'group') doubtfulGroups.delete(unit.group);
      options.onStatus?.();
      return true;
    } finally {
      readStartedAt = undefined;
    }
  }

  /**
   * In interval mode (PubNub's "announce max") joins and leaves wait for the next interval event,
   * but state changes come at once: their occupancy counts people the roster has not been told of
   * yet, so it proves nothing. Per-user join/leave/timeout events mean the mode is over.
   */
  const intervalMode = new Set<string>();
  const noteMode = (event: PresenceEvent<S>): void => {
    if (event.type === 'interval') intervalMode.add(event.channel);
    else if (event.type !== 'stateChange') intervalMode.delete(event.channel);
  };
  const countable = (event: PresenceEvent<S>): boolean => !(event.type === 'stateChange' && intervalMode.has(event.channel));

  /**
   * Whether a seeded channel can be trusted. A snapshot may be older than some replayed events, and
   * replay fixes that — unless one of them is an interval event with `hereNowRefresh` (it names no
   * one), or the roster after replay does not add up to the last event's occupancy. Then the
   * snapshot may predate changes no event describes: `since` is when the doubt arose.
   */
  function verify(channel: string, entry: { occupancy: number; occupants: Map<string, unknown> } | undefined, window: readonly Buffered<S>[]): 'exact' | { since: number } {
    // Pages are read one after another: someone who moved between them may be counted twice or missed.
    if (entry && entry.occupants.size !== entry.occupancy && options.pageSize < entry.occupancy) return { since: now() };
    let last: Buffered<S> | undefined;
    for (const buffered of window) {
      if (buffered.event.channel !== channel) continue;
      if (buffered.event.type === 'interval' && buffered.event.hereNowRefresh) return { since: buffered.at };
      if (countable(buffered.event)) last = buffered;
    }
    if (last && state.getOrEmpty(channel).occupancy !== last.event.occupancy) return { since: last.at };
    return 'exact';
  }

  const watchedElsewhere = (channel: string): boolean => explicit.has(channel) || [...groupMembers.values()].some((members) => members.has(channel));

  /** A channel no longer watched: its occupants are reported gone and it is no longer answered. */
  const forget = (channel: string): void => {
    emitDiff(state.seed(channel, []));
    state.drop(channel);
    doubtful.delete(channel);
  };

  const onConnect = (): void => {
    epoch++;
    connected = true;
    lastContactAt = now();
    coveredFrom = now();
    // Events from before a reconnect may be followed by a gap: none of them can be replayed.
    recent = [];
    const reason: SeedReason = everConnected ? 'reconnect' : options.firstSeedReason ?? 'initial';
    everConnected = true;
    // Group members are read again with their group.
    requestSeed(reason, explicit, groups);
    for (const channel of state.channels()) doubtful.add(channel);
    onConnected?.();
  };

  const onEvent = (event: PresenceEvent<S>): void => {
    const at = now();
    lastContactAt = at;
    options.onEvent?.(event);
    recent.push({ at, event });
    trim();
    const group = 'group' in event ? event.group : undefined;
    if (group !== undefined && groups.has(group)) {
      const members = groupMembers.get(group);
      if (members && !members.has(event.channel)) {
        // The group gained a channel: read it; the group is not known exactly until then.
        members.add(event.channel);
        requestSeed('group_change', [event.channel]);
      }
    }
    noteMode(event);
    if (!state.has(event.channel)) return;
    const { diff, resync } = state.apply(event, { check: !doubtful.has(event.channel) && countable(event) });
    emitDiff(diff);
    if (!resync) return;
    const refresh = event.type === 'interval' && event.hereNowRefresh;
    // A refresh names no one: a read is exact only once the service's cache cannot hand back an answer
    // from before it (verify() would doubt an earlier one and read again). Wait that long: one read, not two.
    if (refresh) readNotBefore = Math.max(readNotBefore, at + options.upstreamCacheMs + REPLAY_MARGIN_MS + 1);
    requestSeed(refresh ? 'refresh' : 'mismatch', [event.channel]);
  };

  async function watchLoop(): Promise<void> {
    let failures = 0;
    while (!closed) {
      try {
        const events = source.watch({
          ...(explicit.size > 0 ? { channels: [...explicit] } : {}),
          ...(groups.size > 0 ? { channelGroups: [...groups] } : {}),
          signal,
          onConnect,
        });
        for await (const event of events) {
          failures = 0;
          onEvent(event);
        }
      } catch {
        // The watch retries what it can itself; what reaches here ended it. Start over after a pause.
      }
      connected = false;
      for (const channel of state.channels()) doubtful.add(channel);
      options.onStatus?.();
      if (closed) return;
      failures++;
      await sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 7)));
    }
  }

  const groupTimer = groups.size > 0 ? setInterval(() => requestSeed('group_refresh', [], groups, false), options.groupRefreshMs) : undefined;
  groupTimer?.unref?.();
  const watching = watchLoop();

  return {
    state,
    ready,
    knows: (channel) => connected && state.has(channel) && !doubtful.has(channel),
    doubtfulChannels: () => (connected ? [...doubtful] : [...new Set([...explicit, ...state.channels()])]),
    doubtfulGroups: () => (connected ? [...doubtfulGroups] : [...groups]),
    groupChannels(group) {
      if (!connected || !groups.has(group) || doubtfulGroups.has(group)) return undefined;
      const members = groupMembers.get(group);
      return members ? [...members] : undefined;
    },
    get lastContactAt() {
      return lastContactAt;
    },
    get connected() {
      return connected;
    },
    close() {
      // Every caller waits for the same end: a second close() must not return while the watch still runs.
      closing ??= (async () => {
        closed = true;
        rejectReady(new RosterClosedError());
        if (groupTimer) clearInterval(groupTimer);
        controller.abort();
        await Promise.allSettled([watching, seeding]);
      })();
      return closing;
    },
  };
}
