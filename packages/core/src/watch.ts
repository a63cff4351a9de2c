import { findUnknownKey, unknownKeyMessage } from './option-keys.js';
import { sleep } from './deadline.js';
import { PresenceAbortError } from './errors/abort-error.js';
import type { PresenceApiError } from './errors/api-error.js';
import { PresenceError } from './errors/presence-error.js';
import { retryReasonOf } from './errors/retry-reason.js';
import { PresenceValidationError } from './errors/validation-error.js';
import type { PresenceEvents, WatchReconnectReason } from './events.js';
import type { SafeLogger } from './logger.js';
import { subscribe, type PresenceEvent, type SubscribeInput, type SubscribeResult } from './operations/subscribe.js';
import type { CallOptions, JsonValue, ResolvedConfig, Stack } from './types.js';
import { describeValue } from './validate.js';

/** The long-poll's deadline: the official SDKs' subscribe request timeout (notes §6). */
export const DEFAULT_SUBSCRIBE_TIMEOUT_MS = 310_000;

export interface WatchOptions<S = JsonValue> {
  /** Channels to watch, by their own names. At least one channel or group. */
  channels?: readonly string[];
  channelGroups?: readonly string[];
  /** Ends the iteration at once (it finishes quietly, like `break`), destroying the held request. */
  signal?: AbortSignal;
  /**
   * Default false: an observer, subscribed only to the `-pnpres` twins, never counted as an
   * occupant. True: also subscribes to the channels, so this client's userId appears in here-now.
   */
  participant?: boolean;
  /**
   * Participant only: the presence timeout in seconds (1–320). Sent only when given; the service's default is 300.
   * When given, the watch also sends a heartbeat every `heartbeat / 2 − 1` s (at least every 0.5 s), as the
   * official SDKs do: a long-poll is held up to 280 s and only its answer refreshes presence (notes §4).
   */
  heartbeat?: number;
  /** Participant only: this client's state per channel (or group), sent with each handshake. */
  state?: Readonly<Record<string, S>>;
  /** Resume from this timetoken (e.g. the last event's) instead of from the handshake's cursor. */
  timetoken?: string;
  /**
   * Called when the watch is live: after the handshake (`reconnected: false`) and after every
   * successful reconnect (`reconnected: true`). `timetoken` is the cursor events are read from.
   */
  onConnect?: (info: { timetoken: string; reconnected: boolean }) => void;
  /**
   * Participant only: announce a `leave` for the channels and groups when the watch ends, as the
   * official SDK does on unsubscribe, so this client does not linger as an occupant until its
   * heartbeat runs out. Default true. `return()` (and so `break`) waits for it, at most 2 s.
   */
  leaveOnEnd?: boolean;
  /** Deadline of each long-poll, in ms. Default: the client's `subscribeTimeoutMs` (310 000). */
  timeoutMs?: number;
  /** Reconnect backoff: full jitter, random(0, min(maxDelayMs, baseDelayMs · 2^(n−1))). Defaults 250 ms and 30 000 ms. */
  reconnect?: { baseDelayMs?: number; maxDelayMs?: number };
}

/** What the watch needs of its client. */
export interface WatchContext<S> {
  readonly config: ResolvedConfig<S>;
  readonly events: PresenceEvents;
  readonly logger: SafeLogger;
  readonly stack: Stack;
  readonly subscribeTimeoutMs: number;
  send(input: SubscribeInput<S>, options: CallOptions): Promise<SubscribeResult<S>>;
  leave(input: { channels: readonly string[]; channelGroups: readonly string[] }, options: CallOptions): Promise<void>;
  heartbeat(input: { channels: readonly string[]; channelGroups: readonly string[]; heartbeat: number }, options: CallOptions): Promise<void>;
  /** Told once when the watch ends, however it ends. */
  ended?(watch: PresenceWatch<S>): void;
}

/** The longest a participant's leave may hold up `return()`. */
const LEAVE_TIMEOUT_MS = 2000;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
/** Why a failed long-poll is worth reconnecting, or undefined when the watch must end with the error (400, 403, bad input…). */
export function watchReconnectReasonOf(error: unknown): WatchReconnectReason | undefined {
  // A truncated or garbled body: the same cursor asked again gets a readable answer. (retry()
  // leaves protocol errors alone: a one-off request that failed that way is not sent again.)
  if (PresenceError.isInstance(error) && error.code === 'protocol_error') return 'protocol_error';
  return retryReasonOf(error);
}

/** Whether timetoken `a` is later than `b` (digit strings of up to 20 digits: longer is later, else compare as text). */
function isLater(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}

function checkDelay(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 10 * 60_000) {
    throw new PresenceValidationError(field, 'range', `watch: ${field} must be a number of milliseconds from 0 to 600000; got ${describeValue(value)}.`, { operation: 'subscribe' });
  }
  return value;
}

/**
 * `presence.watch()`: presence events as an async iterator over the subscribe long-poll.
 *
 * Handshake, then long-polls from the last cursor, one response read ahead of the consumer (so at
 * most two responses are held). A failed long-poll (network error, timeout, 5xx, 429, an
 * unreadable body) is followed, after a full-jitter backoff, by a fresh handshake (which tells
 * `onConnect` promptly that the watch is live again) and a long-poll from the same cursor: the
 * service replays everything after it, so nothing is lost or repeated. 400, 403 and other refusals
 * end the iteration with the typed error. `break`, `return()` or the signal end it at once and
 * abort the held request; nothing is sent before the first `next()`.
 */
// Every key of WatchOptions, checked at compile time: a misspelt option is refused, never ignored.
const WATCH_OPTION_KEYS = Object.keys({
  channels: true, channelGroups: true, signal: true, participant: true, heartbeat: true, state: true, timetoken: true,
  onConnect: true, leaveOnEnd: true, timeoutMs: true, reconnect: true,
} satisfies Record<keyof WatchOptions<unknown>, true>);

export class PresenceWatch<S> implements AsyncIterableIterator<PresenceEvent<S>> {
  readonly #context: WatchContext<S>;
  readonly #target: SubscribeInput<S>;
  readonly #options: WatchOptions<S>;
  readonly #timeoutMs: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #controller = new AbortController();
  readonly #callerSignal: AbortSignal | undefined;
  #queue: PresenceEvent<S>[] = [];
  #head = 0;
  #ahead: Promise<PresenceEvent<S>[]> | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #ended = false;
  // The cursor events are read from, and whether a handshake must come first (at the start and after a failure).
  #cursor: { timetoken: string; region: number | undefined } | undefined;
  #handshakeNeeded = true;
  #connectedBefore = false;
  #failures = 0;
  #leaving: Promise<void> | undefined;
  // The last timetoken read per channel (see #unseen).
  readonly #lastTimetoken = new Map<string, string>();
  readonly #leaveOnEnd: boolean;
  // A participant with its own heartbeat: the timer of the next periodic heartbeat, and whether one is on its way.
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatInFlight = false;

  constructor(context: WatchContext<S>, options: WatchOptions<S>) {
    if (typeof options !== 'object' || options === null) {
      throw new PresenceValidationError('options', 'type', `watch: pass an options object, e.g. { channels: ['lobby'] }; got ${describeValue(options)}.`, { operation: 'subscribe' });
    }
    const unknown = findUnknownKey(options, WATCH_OPTION_KEYS);
    if (unknown) throw new PresenceValidationError(unknown.key, 'unknown-option', unknownKeyMessage('watch', 'option', unknown, WATCH_OPTION_KEYS), { operation: 'subscribe' });
    this.#context = context;
    this.#options = options;
    const { channels, channelGroups, participant, heartbeat, state, timetoken, signal, onConnect } = options;
    this.#target = {
      ...(channels === undefined ? {} : { channels }),
      ...(channelGroups === undefined ? {} : { channelGroups }),
      ...(participant === undefined ? {} : { participant }),
      ...(heartbeat === undefined ? {} : { heartbeat }),
    };
    // Everything is checked now, before anything is sent: the handshake and the resumed long-poll.
    subscribe.prepare({ ...this.#target, ...(state === undefined ? {} : { state }) }, context.config);
    if (timetoken !== undefined) subscribe.prepare({ ...this.#target, timetoken }, context.config);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new PresenceValidationError('signal', 'type', `watch: signal must be an AbortSignal; got ${describeValue(signal)}.`, { operation: 'subscribe' });
    }
    if (onConnect !== undefined && typeof onConnect !== 'function') {
      throw new PresenceValidationError('onConnect', 'type', `watch: onConnect must be a function ({ timetoken, reconnected }) => void; got ${describeValue(onConnect)}.`, { operation: 'subscribe' });
    }
    const timeoutMs = checkDelay('timeoutMs', options.timeoutMs, context.subscribeTimeoutMs);
    if (timeoutMs === 0) throw new PresenceValidationError('timeoutMs', 'range', 'watch: timeoutMs must be above 0.', { operation: 'subscribe' });
    this.#timeoutMs = timeoutMs;
    if (options.reconnect !== undefined && (typeof options.reconnect !== 'object' || options.reconnect === null)) {
      throw new PresenceValidationError('reconnect', 'type', 'watch: reconnect must be an object { baseDelayMs?, maxDelayMs? }.', { operation: 'subscribe' });
    }
    this.#baseDelayMs = checkDelay('reconnect.baseDelayMs', options.reconnect?.baseDelayMs, 250);
    this.#maxDelayMs = checkDelay('reconnect.maxDelayMs', options.reconnect?.maxDelayMs, Math.max(30_000, this.#baseDelayMs));
    if (options.leaveOnEnd !== undefined && typeof options.leaveOnEnd !== 'boolean') {
      throw new PresenceValidationError('leaveOnEnd', 'type', `watch: leaveOnEnd must be true or false; got ${describeValue(options.leaveOnEnd)}.`, { operation: 'subscribe' });
    }
    this.#leaveOnEnd = participant === true && options.leaveOnEnd !== false;
    if (timetoken !== undefined && timetoken !== '0') this.#cursor = { timetoken, region: undefined };
    this.#callerSignal = signal;
    if (signal?.aborted) this.#stop();
    else signal?.addEventListener('abort', this, { once: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<PresenceEvent<S>>> {
    // Calls made without waiting are answered in order, one at a time.
    const result = this.#chain.then(() => this.#next());
    this.#chain = result.catch(() => {});
    return result;
  }

  /** Ends the iteration at once: the held request is aborted and no timer is left (a participant's leave is awaited). */
  return(): Promise<IteratorResult<PresenceEvent<S>>> {
    this.#stop();
    return this.#leaving ? this.#leaving.then(() => DONE) : Promise.resolve(DONE);
  }

  /** The caller's signal fired (this object is its listener). */
  handleEvent(): void {
    this.#stop();
  }

  #stop(): void {
    if (this.#controller.signal.aborted) return;
    this.#ended = true;
    this.#queue = [];
    this.#head = 0;
    this.#callerSignal?.removeEventListener('abort', this);
    this.#controller.abort(new PresenceAbortError({ operation: 'subscribe', cause: this.#callerSignal?.reason }));
    clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.#context.ended?.(this);
    if (this.#leaveOnEnd && this.#connectedBefore) {
      const { channels = [], channelGroups = [] } = this.#options;
      this.#leaving = this.#context.leave({ channels, channelGroups }, { timeoutMs: Math.min(LEAVE_TIMEOUT_MS, this.#context.config.timeoutMs) }).catch((error: unknown) => {
        this.#context.logger.debug({ operation: 'leave', code: PresenceError.isInstance(error) ? error.code : 'unknown' }, 'a participant watch ended; its leave failed (the service will time it out)');
      });
    }
  }

  async #next(): Promise<IteratorResult<PresenceEvent<S>>> {
    for (;;) {
      if (this.#head < this.#queue.length) {
        const event = this.#queue[this.#head++]!;
        const { events } = this.#context;
        if (events.has('watchEvent')) events.emit('watchEvent', { type: event.type, lagMs: Date.now() - event.timestamp });
        return { done: false, value: event };
      }
      if (this.#ended) return DONE;
      const batch = this.#ahead ?? this.#read();
      this.#ahead = undefined;
      let events: PresenceEvent<S>[];
      try {
        events = await batch;
      } catch (error) {
        if (this.#controller.signal.aborted) return DONE;
        // A refusal (or an empty retry budget) ends the watch; this next() reports why, later ones are done.
        this.#stop();
        throw error;
      }
      // Ended while the response was on its way: its events are not handed out.
      if (this.#ended) return DONE;
      this.#queue = events;
      this.#head = 0;
      // Read the next response while the consumer works through this one.
      const ahead = this.#read();
      ahead.catch(() => {}); // seen when the consumer reaches it
      this.#ahead = ahead;
    }
  }

  /** Reads until a response brings events: handshakes, long-polls and reconnects. */
  async #read(): Promise<PresenceEvent<S>[]> {
    const { signal } = this.#controller;
    const options: CallOptions = { signal, timeoutMs: this.#timeoutMs };
    for (;;) {
      try {
        if (this.#handshakeNeeded) await this.#handshake(options);
        const cursor = this.#cursor!;
        const result = await this.#context.send({ ...this.#target, timetoken: cursor.timetoken, ...(cursor.region === undefined ? {} : { region: cursor.region }) }, options);
        this.#succeeded();
        this.#cursor = { timetoken: result.timetoken, region: result.region };
        if (result.skipped !== 0 && this.#context.logger.enabled) {
          this.#context.logger.warn({ operation: 'subscribe', reason: `${result.skipped} unreadable presence event(s)` }, 'presence watch skipped events it could not read');
        }
        const fresh = this.#unseen(result.events);
        if (fresh.length !== 0) return fresh;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        await this.#backOff(error);
      }
    }
  }

  /**
   * Leaves out events at or before the last one read on their channel. Resuming from the cursor is
   * what keeps events from repeating; this only guards against a service that replays some anyway
   * (PubNub gives each publish on a channel its own, increasing timetoken).
   */
  #unseen(events: PresenceEvent<S>[]): PresenceEvent<S>[] {
    const fresh: PresenceEvent<S>[] = [];
    for (const event of events) {
      const last = this.#lastTimetoken.get(event.channel);
      if (last !== undefined && !isLater(event.timetoken, last)) continue;
      this.#lastTimetoken.set(event.channel, event.timetoken);
      fresh.push(event);
    }
    return fresh;
  }

  async #handshake(options: CallOptions): Promise<void> {
    const { state } = this.#options;
    const result = await this.#context.send({ ...this.#target, ...(state === undefined ? {} : { state }) }, options);
    this.#succeeded();
    // A watch that resumes from a given timetoken reads it in the handshake's region (as the official SDK does).
    if (this.#cursor === undefined) this.#cursor = { timetoken: result.timetoken, region: result.region };
    else if (this.#cursor.region === undefined) this.#cursor = { ...this.#cursor, region: result.region };
    this.#handshakeNeeded = false;
    this.#scheduleHeartbeat();
    const reconnected = this.#connectedBefore;
    this.#connectedBefore = true;
    try {
      this.#options.onConnect?.({ timetoken: this.#cursor.timetoken, reconnected });
    } catch {
      // The consumer's callback failing must not stop the watch.
      this.#context.logger.warn({ operation: 'subscribe', reason: 'onConnect' }, 'a watch onConnect callback threw; the watch went on');
    }
  }

  /**
   * A participant that set its own `heartbeat` keeps itself present between long-poll answers, every
   * `heartbeat / 2 − 1` s as the SDKs do (notes §4). A failed heartbeat is only logged: the long-poll's
   * reconnect handles a lost service, and the next heartbeat tries again.
   */
  #scheduleHeartbeat(): void {
    const seconds = this.#target.heartbeat;
    if (seconds === undefined || !this.#target.participant || this.#heartbeatTimer !== undefined || this.#ended) return;
    const periodMs = Math.max(500, (seconds / 2 - 1) * 1000);
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatTimer = undefined;
      if (this.#ended) return;
      this.#scheduleHeartbeat();
      if (this.#heartbeatInFlight) return;
      this.#heartbeatInFlight = true;
      const { channels = [], channelGroups = [] } = this.#options;
      this.#context
        .heartbeat({ channels, channelGroups, heartbeat: seconds }, { signal: this.#controller.signal, timeoutMs: this.#context.config.timeoutMs })
        .catch((error: unknown) => {
          if (!this.#ended) this.#context.logger.debug({ operation: 'heartbeat', code: PresenceError.isInstance(error) ? error.code : 'unknown' }, 'a participant watch heartbeat failed; the next one tries again');
        })
        .finally(() => {
          this.#heartbeatInFlight = false;
        });
    }, periodMs);
  }

  #succeeded(): void {
    this.#failures = 0;
    const budget = this.#context.stack.retryBudget;
    if (budget?.refund() && this.#context.events.has('retryBudget')) {
      this.#context.events.emit('retryBudget', { tokens: budget.tokens });
    }
  }

  /** Waits before the next try, or rethrows when the error ends the watch (a refusal, or an empty retry budget). */
  async #backOff(error: unknown): Promise<void> {
    const reason = watchReconnectReasonOf(error);
    if (reason === undefined) throw error;
    const budget = this.#context.stack.retryBudget;
    if (budget && !budget.acquire(reason === 'timeout')) {
      this.#context.logger.debug({ operation: 'subscribe', reason }, 'presence watch ends: the retry budget is empty');
      throw error;
    }
    const attempt = ++this.#failures;
    const retryAfterMs = (error as Partial<PresenceApiError>).retryAfterMs;
    const delayMs = typeof retryAfterMs === 'number'
      ? Math.min(retryAfterMs, this.#maxDelayMs)
      : Math.floor(Math.random() * Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** Math.min(attempt - 1, 30)));
    const { events, logger } = this.#context;
    if (events.has('watchReconnect')) events.emit('watchReconnect', { reason, attempt, delayMs });
    if (logger.enabled) logger.debug({ operation: 'subscribe', reason, attempt, delayMs }, 'presence watch reconnects');
    await sleep(delayMs, this.#controller.signal);
    // A fresh handshake shows promptly that the service is back; events are then read from the same cursor.
    this.#handshakeNeeded = true;
  }
}
