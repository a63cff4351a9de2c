import type { PresenceChange } from './presence-store.js';
import type { TimetokenClock } from './timetoken-clock.js';

/** `r` of every timetoken this emulator issues (the real service reports its region; any small integer works). */
export const REGION = 1;
/** `a` (the shard) of every envelope; a string on the wire (notes §4, `subscribe_presence_join.json`). */
const SHARD = '5';

export interface PresenceEventLogOptions {
  /** Above this occupancy a channel switches to interval mode (PubNub's "Announce Max"). */
  announceMax: number;
  /** Period of `interval` events in interval mode. */
  intervalSec: number;
  /** When the join/leave/timeout lists of one interval event would exceed this (bytes of JSON), send `here_now_refresh: true` instead. */
  intervalDeltaMaxBytes: number;
  /** Events kept per channel for catch-up. */
  catchUpBufferSize: number;
  /** Events older than this are dropped from the catch-up buffer. */
  catchUpMaxAgeMs: number;
}

/** One presence event, stored once and sent to each subscriber with its own `b`. */
export interface StoredEvent {
  readonly tt: bigint;
  /** The envelope up to the value of `b`: `{"a":…,"d":{…},"b":`. */
  readonly head: string;
  /** Epoch ms when stored, for the age bound. */
  readonly at: number;
}

interface ChannelLog {
  /** Ascending timetokens (there is one clock, so appends are always in order). */
  readonly events: StoredEvent[];
  /** Newest timetoken dropped from this log by the size or age bound; 0n when none. */
  droppedThrough: bigint;
}

interface IntervalDeltas {
  readonly join: Set<string>;
  readonly leave: Set<string>;
  readonly timeout: Set<string>;
}

export interface EventsAfter {
  events: readonly StoredEvent[];
  /** True when events newer than the cursor were already dropped: the subscriber missed some. */
  truncated: boolean;
}

const keyOf = (subKey: string, channel: string): string => `${subKey}\u0000${channel}`;

/**
 * The presence events of every `<channel>-pnpres`: builds the envelopes (notes §4), keeps a bounded
 * per-channel buffer for catch-up by timetoken, and runs interval mode.
 */
export class PresenceEventLog {
  private readonly logs = new Map<string, ChannelLog>();
  /** Channels in interval mode, with the deltas since their last `interval` event and when the next one is due. */
  private readonly intervalChannels = new Map<string, { subKey: string; channel: string; deltas: IntervalDeltas; dueAt: number }>();
  private publishedCount = 0;
  /** Newest dropped timetoken of any log deleted once empty, so its cursor gap stays visible. */
  private forgottenThrough = 0n;

  constructor(
    private readonly now: () => number,
    private readonly clock: TimetokenClock,
    private readonly options: PresenceEventLogOptions,
    private readonly occupancyOf: (subKey: string, channel: string) => number,
    /** Called after every append, so held long-polls can be answered. */
    private readonly onAppend: (subKey: string, channel: string) => void,
  ) {}

  /** Turn a store change into an event, or into interval deltas when the channel is crowded. */
  record(change: PresenceChange): void {
    const { subKey, channel, action, uuid, occupancy } = change;
    if (action !== 'state-change') {
      const key = keyOf(subKey, channel);
      let crowded = this.intervalChannels.get(key);
      if (!crowded && occupancy > this.options.announceMax) {
        // Its own schedule: the first interval comes a full intervalSec after the channel became crowded.
        const dueAt = this.now() + this.options.intervalSec * 1000;
        crowded = { subKey, channel, deltas: { join: new Set(), leave: new Set(), timeout: new Set() }, dueAt };
        this.intervalChannels.set(key, crowded);
      }
      if (crowded) {
        crowded.deltas[action].add(uuid);
        return;
      }
    }
    const ms = Math.floor(this.now());
    const timestamp = Math.floor(ms / 1000);
    // Field names and integer types as in the 2025 recording (`subscribe_presence_join.json`); `data` carries
    // the new state of a state-change (`subscribe_presence_state_change.json`).
    const data: Record<string, unknown> = { action, uuid, timestamp, precise_timestamp: ms, occupancy };
    if (action === 'state-change') data.data = change.state ?? {};
    const meta = {
      pn_action: action,
      pn_channel: channel,
      pn_ispresence: 1,
      pn_occupancy: occupancy,
      pn_precise_timestamp: ms,
      pn_timestamp: timestamp,
      pn_uuid: uuid,
    };
    this.append(subKey, channel, data, meta);
  }

  /** Append an arbitrary event body `d` to `<channel>-pnpres` (admin API); returns its timetoken. */
  publish(subKey: string, channel: string, data: unknown, meta?: unknown): bigint {
    return this.append(subKey, channel, data, meta);
  }

  private append(subKey: string, channel: string, data: unknown, meta: unknown): bigint {
    const tt = this.clock.next();
    const u = meta === undefined ? '' : `"u":${JSON.stringify(meta)},`;
    const head =
      `{"a":"${SHARD}","f":0,"p":{"t":"${tt}","r":${REGION}},"k":${JSON.stringify(subKey)},` +
      `"c":${JSON.stringify(`${channel}-pnpres`)},${u}"d":${JSON.stringify(data)},"b":`;
    const key = keyOf(subKey, channel);
    let log = this.logs.get(key);
    if (!log) {
      log = { events: [], droppedThrough: 0n };
      this.logs.set(key, log);
    }
    const at = this.now();
    log.events.push({ tt, head, at });
    this.trim(log, at);
    this.publishedCount += 1;
    this.onAppend(subKey, channel);
    return tt;
  }

  private trim(log: ChannelLog, now: number): void {
    const { events } = log;
    let drop = Math.max(0, events.length - this.options.catchUpBufferSize);
    while (drop < events.length && now - (events[drop] as StoredEvent).at > this.options.catchUpMaxAgeMs) drop += 1;
    if (drop === 0) return;
    log.droppedThrough = (events[drop - 1] as StoredEvent).tt;
    events.splice(0, drop);
  }

  /** Buffered events of `<channel>-pnpres` with a timetoken greater than `after`, oldest first. */
  eventsAfter(subKey: string, channel: string, after: bigint): EventsAfter {
    const log = this.logs.get(keyOf(subKey, channel));
    // Without a log we cannot tell whether this channel lost events; err on the side of saying so.
    if (!log) return { events: [], truncated: after < this.forgottenThrough };
    const { events } = log;
    // Binary search for the first event newer than the cursor.
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((events[mid] as StoredEvent).tt > after) hi = mid;
      else lo = mid + 1;
    }
    return { events: lo === events.length ? [] : events.slice(lo), truncated: after < log.droppedThrough };
  }

  /**
   * Emit the `interval` events that are due: one per crowded channel every `intervalSec` from when it became
   * crowded, with `occupancy` and the uuid lists
   * gathered since the previous one (empty lists left out, as in `subscribe_presence_interval*.json`), or
   * `here_now_refresh: true` when the lists are too big (notes §4). A channel leaves interval mode at the
   * first interval that finds it at or below `announceMax`, after that final event. Returns how many were sent.
   */
  tick(): number {
    const now = this.now();
    for (const log of this.logs.values()) this.trim(log, now);
    for (const [key, log] of this.logs) {
      if (log.events.length > 0) continue;
      if (log.droppedThrough > this.forgottenThrough) this.forgottenThrough = log.droppedThrough;
      this.logs.delete(key);
    }
    const periodMs = this.options.intervalSec * 1000;
    let sent = 0;
    for (const [key, crowded] of this.intervalChannels) {
      if (now < crowded.dueAt) continue;
      // The next one is due a whole period after this one was (a late tick does not shift the schedule).
      crowded.dueAt += periodMs * (Math.floor((now - crowded.dueAt) / periodMs) + 1);
      const { subKey, channel, deltas } = crowded;
      const occupancy = this.occupancyOf(subKey, channel);
      const ms = Math.floor(now);
      const timestamp = Math.floor(ms / 1000);
      const lists: Record<string, string[]> = {};
      if (deltas.join.size > 0) lists.join = [...deltas.join];
      if (deltas.leave.size > 0) lists.leave = [...deltas.leave];
      if (deltas.timeout.size > 0) lists.timeout = [...deltas.timeout];
      const tooBig = Buffer.byteLength(JSON.stringify(lists)) > this.options.intervalDeltaMaxBytes;
      const data: Record<string, unknown> = { action: 'interval', timestamp, occupancy };
      const meta: Record<string, unknown> = {
        pn_action: 'interval',
        pn_channel: channel,
        pn_ispresence: 1,
        pn_occupancy: occupancy,
        pn_timestamp: timestamp,
      };
      if (tooBig) {
        // Only `d` is known to carry it (jsnock_subscribe_presence_interval_here_now_refresh.json); `u` stays without.
        data.here_now_refresh = true;
      } else {
        Object.assign(data, lists);
        for (const [name, list] of Object.entries(lists)) meta[`pn_${name}`] = list;
      }
      deltas.join.clear();
      deltas.leave.clear();
      deltas.timeout.clear();
      if (occupancy <= this.options.announceMax) this.intervalChannels.delete(key);
      this.append(subKey, channel, data, meta);
      sent += 1;
    }
    return sent;
  }

  /** True while `<channel>` is in interval mode. */
  inIntervalMode(subKey: string, channel: string): boolean {
    return this.intervalChannels.has(keyOf(subKey, channel));
  }

  get published(): number {
    return this.publishedCount;
  }

  /** Buffered events over all channels. */
  get buffered(): number {
    let n = 0;
    for (const log of this.logs.values()) n += log.events.length;
    return n;
  }

  reset(): void {
    this.logs.clear();
    this.intervalChannels.clear();
    this.publishedCount = 0;
    this.forgottenThrough = 0n;
  }
}
