import { errorBodies } from './error-bodies.js';
import { heartbeatStates, isPlainObject, parseJson, type Reply } from './handle-presence.js';
import { splitList, type Route } from './parse-request.js';
import { REGION, type PresenceEventLog } from './presence-event-log.js';
import type { PresenceState, PresenceStore } from './presence-store.js';
import { parseTimetoken, type TimetokenClock } from './timetoken-clock.js';

/** The most envelopes one subscribe answer carries; the rest follow on the next poll (the JS SDK's default `requestMessageCountThreshold` is 100). */
export const MAX_MESSAGES_PER_RESPONSE = 100;

const PRESENCE_SUFFIX = '-pnpres';

export interface SubscribeHubOptions {
  /** How long a long-poll is held without events before it is answered empty. */
  holdMs: number;
}

/** Where a subscribe answer goes: the emulator's `send`, plus a way to learn that the client went away. */
export interface PollResponder {
  send(reply: Reply): void;
  /** Called once if the client disconnects before an answer was sent. */
  onClose(listener: () => void): void;
}

export interface LongPollCounts {
  /** Long-polls held open right now. */
  total: number;
  /** Open long-polls per subscribed channel name, as sent (`room`, `room-pnpres`), over all subscribe keys. */
  channels: Record<string, number>;
  /** Open long-polls per subscribed channel-group name, as sent (`g`, `g-pnpres`). */
  channelGroups: Record<string, number>;
}

export interface SubscribeStats {
  /** Long-polls held open right now. */
  openLongPolls: number;
  /** Subscribe requests answered at once with a fresh timetoken (`tt` 0 or absent). */
  handshakes: number;
  /** Long-polls answered with at least one event. */
  releasedWithEvents: number;
  /** Long-polls answered empty: hold time over, `reset()` or `close()`. */
  releasedEmpty: number;
  /** Envelopes sent over all answers. */
  eventsDelivered: number;
  /** Subscribes whose `tt` was older than events already dropped from a catch-up buffer. */
  catchUpTruncated: number;
}

interface LongPoll {
  readonly subKey: string;
  readonly uuid: string;
  readonly after: bigint;
  /** Names as subscribed, for the long-poll listing. */
  readonly channels: readonly string[];
  readonly groups: readonly string[];
  /** `X` for every `X-pnpres` subscribed: events of X are delivered with `b = X-pnpres`. */
  readonly presenceChannels: readonly string[];
  /** `G` for every `G-pnpres` subscribed: events of G's channels are delivered with `b = G-pnpres`. */
  readonly presenceGroups: readonly string[];
  /** Real channels this uuid is present on through this subscribe; its answer refreshes them. */
  readonly presentOn: readonly string[];
  /** The subscribe loop this poll belongs to (participants only): its answer's `t` becomes the loop's cursor. */
  readonly loop: SubscribeLoop | undefined;
  readonly responder: PollResponder;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

/** One subscribe loop of a uuid, as far as the emulator can tell: the real channels it lists and the cursor last handed to it. */
interface SubscribeLoop {
  channels: Set<string>;
  cursor: bigint;
}

const keyOf = (subKey: string, name: string): string => `${subKey}\u0000${name}`;

function addTo(index: Map<string, Set<LongPoll>>, key: string, poll: LongPoll): void {
  let set = index.get(key);
  if (!set) {
    set = new Set();
    index.set(key, set);
  }
  set.add(poll);
}

function removeFrom(index: Map<string, Set<LongPoll>>, key: string, poll: LongPoll): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(poll);
  if (set.size === 0) index.delete(key);
}

function body(timetoken: bigint, messages: readonly string[]): string {
  return `{"t":{"t":"${timetoken}","r":${REGION}},"m":[${messages.join(',')}]}`;
}

const SUBSCRIBE_HEADERS = { 'Cache-Control': 'no-cache' };

/**
 * `GET /v2/subscribe/{sub}/{channels}/0` (notes §4): the handshake, the held long-poll and its release
 * when events arrive, plus the presence side effects of subscribing (a subscribe to a real channel is a
 * heartbeat; a subscribe that drops a channel is a leave).
 */
export class SubscribeHub {
  private readonly polls = new Set<LongPoll>();
  private readonly byChannel = new Map<string, Set<LongPoll>>();
  private readonly byGroup = new Map<string, Set<LongPoll>>();
  private readonly ready = new Set<LongPoll>();
  private flushScheduled: NodeJS.Immediate | undefined;
  /**
   * (subKey, uuid) -> the real channels of each of its subscribe loops, to turn a dropped channel into a leave.
   * One uuid may run several loops (devices, or one client's several watches; notes §8), so a subscribe is
   * matched to the loop it continues instead of to the uuid's last subscribe.
   */
  private readonly loops = new Map<string, SubscribeLoop[]>();
  private stats: Omit<SubscribeStats, 'openLongPolls'> = SubscribeHub.zeroStats();
  private closing = false;

  constructor(
    private readonly store: PresenceStore,
    private readonly log: PresenceEventLog,
    private readonly clock: TimetokenClock,
    private readonly options: SubscribeHubOptions,
  ) {}

  private static zeroStats(): Omit<SubscribeStats, 'openLongPolls'> {
    return { handshakes: 0, releasedWithEvents: 0, releasedEmpty: 0, eventsDelivered: 0, catchUpTruncated: 0 };
  }

  handle(route: Extract<Route, { kind: 'subscribe' }>, params: ReadonlyMap<string, string>, responder: PollResponder): void {
    const { subKey } = route;
    if (subKey === '') return responder.send({ status: 400, body: errorBodies.invalidSubscribeKey });

    // `tt` absent, empty or zero is the handshake (notes §4); anything else must be a timetoken.
    const rawTt = params.get('tt') ?? '';
    const tt = rawTt === '' ? 0n : parseTimetoken(rawTt);
    if (tt === undefined) return responder.send({ status: 400, body: errorBodies.couldNotParse });

    const channels = route.channels;
    const groups = splitList(params.get('channel-group'));
    if (channels.length === 0 && groups.length === 0) return responder.send({ status: 400, body: errorBodies.couldNotParse });
    const isPresence = (name: string): boolean => name.endsWith(PRESENCE_SUFFIX);
    const strip = (name: string): string => name.slice(0, -PRESENCE_SUFFIX.length);
    const realChannels = channels.filter((name) => !isPresence(name));
    const realGroups = groups.filter((name) => !isPresence(name));
    const presenceChannels = channels.filter(isPresence).map(strip);
    const presenceGroups = groups.filter(isPresence).map(strip);
    if (channels.length === 0 && !groups.some((g) => this.store.groupHasChannels(subKey, isPresence(g) ? strip(g) : g))) {
      return responder.send({ status: 400, body: errorBodies.emptyGroupSubscription });
    }

    let states: Map<string, PresenceState> | undefined;
    const rawState = params.get('state');
    if (rawState !== undefined && rawState !== '') {
      const parsed = parseJson(rawState);
      if (!parsed || !isPlainObject(parsed.value)) return responder.send({ status: 400, body: errorBodies.invalidJson });
      states = heartbeatStates(this.store, subKey, parsed.value, realChannels, realGroups);
    }
    const rawHeartbeat = Number(params.get('heartbeat'));
    const heartbeatSec = Number.isFinite(rawHeartbeat) && rawHeartbeat > 0 ? rawHeartbeat : undefined;
    const uuid = params.get('uuid') ?? '';
    const presentOn = uuid === '' ? [] : this.store.resolve(subKey, realChannels, realGroups);

    if (tt === 0n) {
      // The handshake's cursor is taken before the join it causes, so the subscriber receives its own join.
      const timetoken = this.clock.next();
      const loop = this.subscribeSideEffects(subKey, uuid, presentOn, tt, heartbeatSec, states);
      if (loop) loop.cursor = timetoken;
      this.stats.handshakes += 1;
      return responder.send({ status: 200, body: body(timetoken, []), headers: SUBSCRIBE_HEADERS });
    }

    const loop = this.subscribeSideEffects(subKey, uuid, presentOn, tt, heartbeatSec, states);
    // A cursor from the future (another server, a clock that went back) would hide every event: read it as "now".
    const latest = this.clock.latest;
    const poll: LongPoll = {
      subKey,
      uuid,
      after: tt > latest ? latest : tt,
      channels,
      groups,
      presenceChannels,
      presenceGroups,
      presentOn,
      loop,
      responder,
      timer: undefined,
      done: false,
    };
    if (this.tryRelease(poll, true)) return;
    // Shutting down: nothing will come, so answer at once rather than hold a poll close() must cut.
    if (this.closing) return this.answer(poll, [], undefined);
    this.hold(poll);
  }

  /**
   * A subscribe to real channels is a heartbeat on them (notes §3.5, §9.5); channels the loop's previous
   * subscribe had and this one lacks are left, as the SDK drops them on unsubscribe. A subscribe to `-pnpres`
   * names only is an observer: it neither joins nor leaves anything. Returns the participant's loop.
   */
  private subscribeSideEffects(
    subKey: string,
    uuid: string,
    channels: readonly string[],
    tt: bigint,
    heartbeatSec: number | undefined,
    states: ReadonlyMap<string, PresenceState> | undefined,
  ): SubscribeLoop | undefined {
    if (uuid === '' || channels.length === 0) return undefined;
    const key = keyOf(subKey, uuid);
    let loops = this.loops.get(key);
    if (!loops) this.loops.set(key, (loops = []));
    const current = new Set(channels);
    const same = (loop: SubscribeLoop): boolean => loop.channels.size === current.size && [...loop.channels].every((c) => current.has(c));
    // One uuid may run several loops (devices, one client's several watches; notes §8). A poll continues the loop
    // its cursor was handed to, whatever its channels now (an SDK that unsubscribed keeps its cursor).
    const byCursor = tt === 0n ? [] : loops.filter((loop) => loop.cursor === tt);
    let loop = byCursor.find(same) ?? byCursor[0] ?? loops.find(same);
    if (!loop) {
      // A handshake (or a cursor not handed out here) with fewer channels than a loop: that loop unsubscribed some.
      // Anything else is a new loop, and leaves nothing.
      for (const candidate of loops) {
        const shrunk = candidate.channels.size > current.size && [...current].every((c) => candidate.channels.has(c));
        if (shrunk && (!loop || candidate.channels.size < loop.channels.size)) loop = candidate;
      }
    }
    if (!loop) loops.push((loop = { channels: current, cursor: tt }));
    const previous = loop.channels;
    loop.channels = current;
    // Dropped channels are left unless another loop of the uuid still lists them.
    const dropped = [...previous].filter((c) => !current.has(c) && !loops.some((other) => other.channels.has(c)));
    if (dropped.length > 0) this.store.leave(subKey, uuid, dropped);
    this.store.heartbeat(subKey, uuid, channels, heartbeatSec, states);
    return loop;
  }

  /** A leave or timeout ends the uuid's subscription to that channel as far as drop detection goes. */
  forget(subKey: string, uuid: string, channel: string): void {
    const key = keyOf(subKey, uuid);
    const loops = this.loops.get(key);
    if (!loops) return;
    for (let i = loops.length - 1; i >= 0; i -= 1) {
      const loop = loops[i] as SubscribeLoop;
      loop.channels.delete(channel);
      if (loop.channels.size === 0) loops.splice(i, 1);
    }
    if (loops.length === 0) this.loops.delete(key);
  }

  private hold(poll: LongPoll): void {
    this.polls.add(poll);
    for (const channel of poll.presenceChannels) addTo(this.byChannel, keyOf(poll.subKey, channel), poll);
    for (const group of poll.presenceGroups) addTo(this.byGroup, keyOf(poll.subKey, group), poll);
    poll.timer = setTimeout(() => this.answer(poll, [], undefined), this.options.holdMs);
    poll.responder.onClose(() => this.drop(poll));
  }

  private drop(poll: LongPoll): void {
    if (poll.done) return;
    poll.done = true;
    if (poll.timer) clearTimeout(poll.timer);
    this.polls.delete(poll);
    this.ready.delete(poll);
    for (const channel of poll.presenceChannels) removeFrom(this.byChannel, keyOf(poll.subKey, channel), poll);
    for (const group of poll.presenceGroups) removeFrom(this.byGroup, keyOf(poll.subKey, group), poll);
  }

  /** Events of `<channel>-pnpres` newer than the poll's cursor, each with the `b` this poll subscribed by. */
  private collect(poll: LongPoll, countTruncation: boolean): Array<{ tt: bigint; text: string }> {
    const out: Array<{ tt: bigint; text: string }> = [];
    let truncated = false;
    const take = (channel: string, subscription: string): void => {
      const found = this.log.eventsAfter(poll.subKey, channel, poll.after);
      if (found.truncated) truncated = true;
      const b = `${JSON.stringify(subscription)}}`;
      for (const event of found.events) out.push({ tt: event.tt, text: event.head + b });
    };
    const seen = new Set<string>();
    for (const channel of poll.presenceChannels) {
      seen.add(channel);
      take(channel, `${channel}${PRESENCE_SUFFIX}`);
    }
    // For a group, `b` is `<group>-pnpres` and `c` the member channel (notes §4, §8).
    for (const group of poll.presenceGroups) {
      for (const channel of this.store.groupChannels(poll.subKey, group)) {
        if (seen.has(channel)) continue;
        seen.add(channel);
        take(channel, `${group}${PRESENCE_SUFFIX}`);
      }
    }
    if (truncated && countTruncation) this.stats.catchUpTruncated += 1;
    if (out.length > 1) out.sort((x, y) => (x.tt < y.tt ? -1 : x.tt > y.tt ? 1 : 0));
    return out.length > MAX_MESSAGES_PER_RESPONSE ? out.slice(0, MAX_MESSAGES_PER_RESPONSE) : out;
  }

  private tryRelease(poll: LongPoll, first: boolean): boolean {
    const events = this.collect(poll, first);
    if (events.length === 0) return false;
    this.answer(poll, events.map((e) => e.text), (events[events.length - 1] as { tt: bigint }).tt);
    return true;
  }

  /** Answer a poll: its events and the newest one's timetoken as the next cursor, or none and a fresh cursor. */
  private answer(poll: LongPoll, messages: readonly string[], timetoken: bigint | undefined): void {
    if (poll.done) return;
    this.drop(poll);
    // The answer registers as a heartbeat (notes §3.5), but only where the uuid is still present.
    if (poll.presentOn.length > 0) this.store.refresh(poll.subKey, poll.uuid, poll.presentOn);
    const cursor = timetoken ?? this.clock.next();
    if (poll.loop) poll.loop.cursor = cursor;
    if (messages.length > 0) {
      this.stats.releasedWithEvents += 1;
      this.stats.eventsDelivered += messages.length;
    } else {
      this.stats.releasedEmpty += 1;
    }
    poll.responder.send({ status: 200, body: body(cursor, messages), headers: SUBSCRIBE_HEADERS });
  }

  /** An event was appended to `<channel>-pnpres`: answer the polls that want it, batched per turn of the loop. */
  wake(subKey: string, channel: string): void {
    const direct = this.byChannel.get(keyOf(subKey, channel));
    if (direct) for (const poll of direct) this.ready.add(poll);
    if (this.byGroup.size > 0) {
      for (const group of this.store.groupsContaining(subKey, channel)) {
        const viaGroup = this.byGroup.get(keyOf(subKey, group));
        if (viaGroup) for (const poll of viaGroup) this.ready.add(poll);
      }
    }
    if (this.ready.size > 0 && !this.flushScheduled) {
      // Batch: events emitted in one go (a multi-channel leave, a join and its state-change) share one answer.
      this.flushScheduled = setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = undefined;
    const ready = [...this.ready];
    this.ready.clear();
    for (const poll of ready) if (!poll.done) this.tryRelease(poll, false);
  }

  /** Answer every held poll empty (close, reset). */
  releaseAll(): void {
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    this.ready.clear();
    for (const poll of [...this.polls]) this.answer(poll, [], undefined);
  }

  /** Answer every held poll and every later one at once: the emulator is closing. */
  close(): void {
    this.closing = true;
    this.releaseAll();
  }

  reset(): void {
    this.releaseAll();
    this.loops.clear();
    this.stats = SubscribeHub.zeroStats();
  }

  longPolls(): LongPollCounts {
    const channels: Record<string, number> = {};
    const channelGroups: Record<string, number> = {};
    for (const poll of this.polls) {
      for (const name of poll.channels) channels[name] = (channels[name] ?? 0) + 1;
      for (const name of poll.groups) channelGroups[name] = (channelGroups[name] ?? 0) + 1;
    }
    return { total: this.polls.size, channels, channelGroups };
  }

  subscribeStats(): SubscribeStats {
    return { openLongPolls: this.polls.size, ...this.stats };
  }
}
