// A scripted presence service for the engine's unit tests: it holds who is where, emits the events
// a change causes to every live watch, answers (paged) here-now with an optional cache like
// PubNub's, and can drop a watch's connection. Its answers are built by hand, so the roster is
// checked against an independent account of the same facts.
import type { CallOptions, HereNowChannel, HereNowInput, HereNowPage, HereNowPagesInput, HereNowResult, PresenceEvent, WatchOptions } from '@presence/core';
import type { RosterSource } from '../src/index.js';

type State = Record<string, string>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Watcher {
  push(event: PresenceEvent<State>): void;
  drop(): void;
  channels: readonly string[];
  groups: readonly string[];
}

export class FakeWorld implements RosterSource<State> {
  readonly rooms = new Map<string, Map<string, State | undefined>>();
  readonly groups = new Map<string, Set<string>>();
  private readonly watchers = new Set<Watcher>();
  private readonly cache = new Map<string, { until: number; answer: Map<string, Map<string, State | undefined>> }>();
  private tt = 17_000_000_000_000_000n;
  reads = 0;
  readsInFlight = 0;
  maxReadsInFlight = 0;
  readDelayMs = 0;
  failReads = 0;
  /** Events are not delivered while true (a lost connection), and are lost for good. */
  partitioned = false;

  constructor(readonly cacheMs = 0) {}

  // --- the service's side ---------------------------------------------------------------------

  private room(channel: string): Map<string, State | undefined> {
    let room = this.rooms.get(channel);
    if (!room) this.rooms.set(channel, (room = new Map()));
    return room;
  }

  private emit(event: DistributiveOmit<PresenceEvent<State>, 'timestamp' | 'timetoken'>): void {
    const full = { ...event, timestamp: Date.now(), timetoken: String(++this.tt) } as PresenceEvent<State>;
    if (this.partitioned) return;
    for (const watcher of this.watchers) {
      if (watcher.channels.includes(full.channel)) watcher.push(full);
      for (const group of watcher.groups) if (this.groups.get(group)?.has(full.channel)) watcher.push({ ...full, group } as PresenceEvent<State>);
    }
  }

  join(channel: string, userId: string, state?: State): void {
    const room = this.room(channel);
    if (room.has(userId)) return;
    room.set(userId, state);
    this.emit({ type: 'join', channel, userId, occupancy: room.size });
    if (state) this.emit({ type: 'stateChange', channel, userId, occupancy: room.size, state });
  }

  leave(channel: string, userId: string, type: 'leave' | 'timeout' = 'leave'): void {
    const room = this.room(channel);
    if (!room.delete(userId)) return;
    this.emit({ type, channel, userId, occupancy: room.size });
  }

  setState(channel: string, userId: string, state: State): void {
    const room = this.room(channel);
    if (!room.has(userId)) return;
    room.set(userId, state);
    this.emit({ type: 'stateChange', channel, userId, occupancy: room.size, state });
  }

  /** Changes without any event (as in interval mode between announcements): the roster can only learn them by reading. */
  silently(channel: string, change: (room: Map<string, State | undefined>) => void): void {
    change(this.room(channel));
  }

  interval(channel: string, deltas: { joined?: string[]; left?: string[]; timedOut?: string[]; hereNowRefresh?: boolean }): void {
    this.emit({ type: 'interval', channel, occupancy: this.room(channel).size, joined: deltas.joined ?? [], left: deltas.left ?? [], timedOut: deltas.timedOut ?? [], hereNowRefresh: deltas.hereNowRefresh ?? false });
  }

  /** Ends every watch's connection; each reconnects and says so through onConnect. */
  dropConnections(): void {
    for (const watcher of this.watchers) watcher.drop();
  }

  get watching(): number {
    return this.watchers.size;
  }

  // --- the client's side ----------------------------------------------------------------------

  watch(options: WatchOptions<State>): AsyncIterable<PresenceEvent<State>> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the iterator below is a plain object; it reads the world's fields
    const world = this;
    return {
      [Symbol.asyncIterator]() {
        const queue: PresenceEvent<State>[] = [];
        let wake: (() => void) | undefined;
        let reconnect = false;
        let connectedBefore = false;
        let done = false;
        const watcher: Watcher = {
          channels: options.channels ?? [],
          groups: options.channelGroups ?? [],
          push: (event) => {
            queue.push(event);
            wake?.();
          },
          drop: () => {
            reconnect = true;
            wake?.();
          },
        };
        const finish = (): IteratorResult<PresenceEvent<State>> => {
          done = true;
          world.watchers.delete(watcher);
          wake?.();
          return { done: true, value: undefined };
        };
        options.signal?.addEventListener('abort', () => finish(), { once: true });
        const connect = (): void => {
          world.watchers.add(watcher);
          options.onConnect?.({ timetoken: String(world.tt), reconnected: connectedBefore });
          connectedBefore = true;
        };
        return {
          async next() {
            if (!connectedBefore) connect();
            for (;;) {
              if (done) return { done: true, value: undefined };
              if (reconnect) {
                reconnect = false;
                world.watchers.delete(watcher);
                queue.length = 0; // what was in flight is lost
                await new Promise((resolve) => setTimeout(resolve, 5));
                if (done) return { done: true, value: undefined };
                connect();
              }
              const event = queue.shift();
              if (event) return { done: false, value: event };
              await new Promise<void>((resolve) => (wake = resolve));
              wake = undefined;
            }
          },
          async return() {
            return finish();
          },
        };
      },
    };
  }

  private async read(key: string, channels: readonly string[], signal?: AbortSignal): Promise<Map<string, Map<string, State | undefined>>> {
    this.reads++;
    this.readsInFlight++;
    this.maxReadsInFlight = Math.max(this.maxReadsInFlight, this.readsInFlight);
    try {
      if (this.failReads > 0) {
        this.failReads--;
        throw new Error('upstream read failed');
      }
      const hit = this.cache.get(key);
      if (hit && performance.now() < hit.until) return hit.answer;
      const answer = new Map(channels.map((c) => [c, new Map(this.rooms.get(c) ?? [])] as const));
      if (this.cacheMs > 0) this.cache.set(key, { until: performance.now() + this.cacheMs, answer });
      // The answer is what was there when the read began; it travels back meanwhile.
      if (this.readDelayMs) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, this.readDelayMs);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new Error('aborted'));
          }, { once: true });
        });
      }
      return answer;
    } finally {
      this.readsInFlight--;
    }
  }

  async *hereNowPages(input: HereNowPagesInput, options?: CallOptions): AsyncIterable<HereNowPage<State>> {
    if (options && (options as { fresh?: boolean }).fresh !== true) throw new Error('a seed read must be fresh');
    const channels = input.channels ?? [input.channel!];
    const pageSize = input.pageSize ?? 1000;
    for (let offset = 0; ; offset += pageSize) {
      const answer = await this.read(`pages:${channels.join(',')}:${offset}`, channels, options?.signal);
      const page: HereNowChannel<State>[] = [...answer].map(([name, room]) => ({
        name,
        occupancy: room.size,
        occupants: [...room].slice(offset, offset + pageSize).map(([userId, state]) => (state && input.includeState ? { userId, state } : { userId })),
      }));
      const hasMore = page.some((c) => offset + pageSize < c.occupancy);
      yield { offset, channels: page, hasMore };
      if (!hasMore) return;
    }
  }

  async hereNow(input: HereNowInput, options?: CallOptions): Promise<HereNowResult<State>> {
    if ((options)?.fresh !== true) throw new Error('a seed read must be fresh');
    const members = [...new Set((input.channelGroups ?? []).flatMap((g) => [...(this.groups.get(g) ?? [])]))];
    const answer = await this.read(`group:${(input.channelGroups ?? []).join(',')}`, members, options?.signal);
    const channels = [...answer].filter(([, room]) => room.size > 0).map(([name, room]) => ({ name, occupancy: room.size, occupants: [] }));
    return { totalChannels: channels.length, totalOccupancy: channels.reduce((s, c) => s + c.occupancy, 0), channels };
  }

  /** Who is where, sorted, as the roster shows it. */
  view(channel: string): { occupancy: number; occupants: Array<{ userId: string; state?: State }> } {
    const room = this.rooms.get(channel) ?? new Map();
    const occupants = [...room].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([userId, state]) => (state ? { userId, state } : { userId }));
    return { occupancy: occupants.length, occupants };
  }
}
