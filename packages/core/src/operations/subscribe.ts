import { PresenceValidationError } from '../errors/validation-error.js';
import { encodeNames, encodeString } from '../encoding.js';
import { checkBoolean, checkInput, checkInteger, checkNames, describeValue, requireTargets } from '../validate.js';
import type { JsonObject, JsonValue, Operation, QueryParam, ResolvedConfig } from '../types.js';
import { MAX_HEARTBEAT_SECONDS } from './heartbeat.js';
import { buildRequest, encodeState, isObject, readObject, shapeError } from './shared.js';

/** Presence events ride on `<channel>-pnpres` (notes §4). */
export const PRESENCE_SUFFIX = '-pnpres';

/** One presence event as `watch()` delivers it (DESIGN §7): camel-cased, times in ms, `timetoken` as the service's string. */
export type PresenceEvent<S = JsonValue> =
  | { type: 'join' | 'leave' | 'timeout'; channel: string; userId: string; occupancy: number; timestamp: number; timetoken: string; group?: string }
  | { type: 'stateChange'; channel: string; userId: string; occupancy: number; timestamp: number; timetoken: string; state: S; group?: string }
  | { type: 'interval'; channel: string; occupancy: number; timestamp: number; timetoken: string; joined: string[]; left: string[]; timedOut: string[]; hereNowRefresh: boolean };

export interface SubscribeInput<S = JsonValue> {
  /** Channels to watch, by their own names (not the `-pnpres` twins). */
  channels?: readonly string[];
  channelGroups?: readonly string[];
  /** The cursor to resume from (`t.t` of the previous response). Absent: the handshake, which only returns the current cursor. */
  timetoken?: string;
  /** The region of `timetoken` (`t.r`), sent as `tr`. */
  region?: number;
  /** Also subscribe to the channels themselves, and so appear in their here-now. Default false: only the `-pnpres` twins. */
  participant?: boolean;
  /** Participant only: seconds the service keeps this user present without another request (1–320). Not sent when absent: the service's default, 300. */
  heartbeat?: number;
  /** Participant only: state per channel (or group) name, sent with the handshake. */
  state?: Readonly<Record<string, S>>;
}

export interface SubscribeParams {
  readonly channels: readonly string[];
  readonly channelGroups: readonly string[];
  readonly timetoken: string | undefined;
  readonly region: number | undefined;
  readonly participant: boolean;
  readonly heartbeat: number | undefined;
  /** The per-channel state map as JSON text (participant handshake only), or undefined. */
  readonly stateText: string | undefined;
}

export interface SubscribeResult<S = JsonValue> {
  /** The cursor for the next long-poll (`t.t`). */
  readonly timetoken: string;
  /** Its region (`t.r`). */
  readonly region: number;
  /** The presence events in this response, in the service's order. */
  readonly events: PresenceEvent<S>[];
  /** Envelopes that were presence events but could not be read (missing uuid, occupancy…): left out, counted here. */
  readonly skipped: number;
}

const TIMETOKEN = /^\d{1,20}$/;
const twin = (name: string): string => `${name}${PRESENCE_SUFFIX}`;
const strip = (name: string): string => (name.endsWith(PRESENCE_SUFFIX) ? name.slice(0, -PRESENCE_SUFFIX.length) : name);

function checkTargets(field: 'channels' | 'channelGroups', names: readonly string[]): void {
  names.forEach((name, index) => {
    if (name.endsWith(PRESENCE_SUFFIX)) {
      throw new PresenceValidationError(`${field}[${index}]`, 'presence-channel', `subscribe: ${field}[${index}] "${name}" is a presence twin; give "${strip(name)}" and its ${PRESENCE_SUFFIX} twin is subscribed for you.`, { operation: 'subscribe' });
    }
  });
}

/** A count, also as the digit string some SDK fixtures carry (`"timestamp":"1720033913"`, notes §4). */
function countOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) return Number(value);
  return undefined;
}

function userIds(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
}

/** The event's time in ms: `precise_timestamp` when the service sends it, else `timestamp` (s), else the timetoken (10 ns units). */
function timestampOf(data: JsonObject, timetoken: string): number {
  const precise = countOf(data.precise_timestamp);
  if (precise !== undefined) return precise;
  const seconds = countOf(data.timestamp);
  if (seconds !== undefined) return seconds * 1000;
  return Math.floor(Number(timetoken) / 10_000);
}

/** One envelope of `m` as a presence event; undefined for a non-presence message, null for a presence envelope that cannot be read. */
function eventOf<S>(envelope: unknown, config: ResolvedConfig): PresenceEvent<S> | undefined | null {
  if (!isObject(envelope) || typeof envelope.c !== 'string' || !envelope.c.endsWith(PRESENCE_SUFFIX)) return undefined;
  const data = envelope.d;
  if (!isObject(data) || typeof data.action !== 'string') return null;
  const publish = isObject(envelope.p) ? envelope.p : undefined;
  const timetoken = typeof publish?.t === 'string' && TIMETOKEN.test(publish.t) ? publish.t : undefined;
  const occupancy = countOf(data.occupancy);
  if (timetoken === undefined || occupancy === undefined) return null;
  const channel = strip(envelope.c);
  const timestamp = timestampOf(data, timetoken);
  // `b` names the subscription that matched: `<group>-pnpres` when the event came through a channel group (notes §4).
  const via = typeof envelope.b === 'string' && envelope.b !== envelope.c ? strip(envelope.b) : undefined;
  const group = via === undefined ? {} : { group: via };

  if (data.action === 'interval') {
    return {
      type: 'interval',
      channel,
      occupancy,
      timestamp,
      timetoken,
      joined: userIds(data.join),
      left: userIds(data.leave),
      timedOut: userIds(data.timeout),
      hereNowRefresh: data.here_now_refresh === true,
    };
  }
  if (typeof data.uuid !== 'string' || data.uuid === '') return null;
  const userId = data.uuid;
  switch (data.action) {
    case 'join':
    case 'leave':
    case 'timeout':
      return { type: data.action, channel, userId, occupancy, timestamp, timetoken, ...group };
    case 'state-change': {
      // The new state travels in `d.data` (notes §4); the serializer decodes it as here-now's states are.
      const state = config.decodeState(data.data === undefined ? {} : data.data, { operation: 'subscribe', channel, userId });
      if (state === undefined) return undefined; // dropped under invalidState 'omit' (stateDropped was emitted)
      return { type: 'stateChange', channel, userId, occupancy, timestamp, timetoken, state: state as S, ...group };
    }
    default:
      return undefined; // an action this SDK does not know yet: not an error
  }
}

/**
 * The subscribe long-poll (notes §4), used by `watch()`: the handshake (no `tt`) returns the
 * current cursor; each later request (`tt`, `tr`) is held by the service until presence events
 * arrive after that cursor, and returns them with the next cursor. An observer subscribes only to
 * the `-pnpres` twins, so it never appears as an occupant; a participant subscribes to the
 * channels too, with `heartbeat` and (on the handshake) `state`.
 */
export const subscribe: Operation<SubscribeInput<unknown>, SubscribeParams, SubscribeResult<unknown>> = {
  name: 'subscribe',
  kind: 'read',
  longPoll: true,
  fields: ['channels', 'channelGroups', 'timetoken', 'region', 'participant', 'heartbeat', 'state'],

  prepare(raw, config) {
    const input = checkInput('subscribe', raw);
    const channels = checkNames('subscribe', 'channels', input.channels);
    const channelGroups = checkNames('subscribe', 'channelGroups', input.channelGroups);
    requireTargets('subscribe', channels, channelGroups, input);
    checkTargets('channels', channels);
    checkTargets('channelGroups', channelGroups);
    const participant = checkBoolean('subscribe', 'participant', input.participant, false);
    let timetoken: string | undefined;
    if (input.timetoken !== undefined && input.timetoken !== '0') {
      if (typeof input.timetoken !== 'string' || !TIMETOKEN.test(input.timetoken)) {
        throw new PresenceValidationError('timetoken', 'type', `subscribe: timetoken must be the digit string of a PubNub timetoken, e.g. "17579694347952403"; got ${describeValue(input.timetoken)}.`, { operation: 'subscribe' });
      }
      timetoken = input.timetoken;
    }
    const region = input.region === undefined ? undefined : checkInteger('subscribe', 'region', input.region, 0, 0, Number.MAX_SAFE_INTEGER);
    if (!participant && (input.heartbeat !== undefined || input.state !== undefined)) {
      const field = input.heartbeat !== undefined ? 'heartbeat' : 'state';
      throw new PresenceValidationError(field, 'participant-only', `subscribe: ${field} applies to a participant; pass participant: true, or leave ${field} out to watch as an observer.`, { operation: 'subscribe' });
    }
    // Sent only when given, as the official SDK's event engine does (the service then keeps its default, 300 s).
    const heartbeat = participant && input.heartbeat !== undefined ? checkInteger('subscribe', 'heartbeat', input.heartbeat, 300, 1, MAX_HEARTBEAT_SECONDS) : undefined;
    let stateText: string | undefined;
    if (input.state !== undefined && timetoken === undefined) {
      if (!isObject(input.state)) {
        throw new PresenceValidationError('state', 'type', `subscribe: state must map channel or group names to states; got ${describeValue(input.state)}.`, { operation: 'subscribe' });
      }
      const targets = new Set([...channels, ...channelGroups]);
      const { userId } = config;
      const parts: string[] = [];
      for (const [name, state] of Object.entries(input.state)) {
        if (!targets.has(name)) {
          throw new PresenceValidationError(`state.${name}`, 'unknown-channel', `subscribe: state is given for "${name}", which is not in channels or channelGroups; add it there or remove its state.`, { operation: 'subscribe' });
        }
        parts.push(`${JSON.stringify(name)}:${encodeState(config, state, { operation: 'subscribe', channel: name, userId })}`);
      }
      if (parts.length) stateText = `{${parts.join(',')}}`;
    }
    return { channels, channelGroups, timetoken, region, participant, heartbeat, stateText };
  },

  request(params, config) {
    const names = (list: readonly string[]): string[] => list.flatMap((name) => (params.participant ? [name, twin(name)] : [twin(name)]));
    // Query order as the official SDK's event engine sends it (notes §4): ee, groups, heartbeat, state, tt, tr.
    const query: QueryParam[] = [['ee', '']];
    if (params.channelGroups.length) query.push(['channel-group', names(params.channelGroups).join(',')]);
    if (params.heartbeat !== undefined) query.push(['heartbeat', String(params.heartbeat)]);
    if (params.stateText !== undefined) query.push(['state', params.stateText]);
    if (params.timetoken !== undefined) {
      query.push(['tt', params.timetoken]);
      if (params.region !== undefined) query.push(['tr', String(params.region)]);
    }
    const path = `/v2/subscribe/${encodeString(config.subscribeKey)}/${encodeNames(names(params.channels))}/0`;
    return buildRequest('subscribe', path, query, 'channels');
  },

  parse(body, params, config) {
    const cursor = readObject('subscribe', body.t, 't');
    const timetoken = typeof cursor.t === 'number' && Number.isSafeInteger(cursor.t) ? String(cursor.t) : cursor.t;
    if (typeof timetoken !== 'string' || !TIMETOKEN.test(timetoken)) throw shapeError('subscribe', 't.t is not a timetoken');
    const region = countOf(cursor.r) ?? 0;
    // The handshake only hands out the cursor; whatever it carries is before the watch began.
    if (params.timetoken === undefined || body.m === undefined) return { timetoken, region, events: [], skipped: 0 };
    if (!Array.isArray(body.m)) throw shapeError('subscribe', 'm is not a list');
    const events: PresenceEvent<unknown>[] = [];
    let skipped = 0;
    for (const envelope of body.m) {
      const event = eventOf<unknown>(envelope, config);
      if (event === null) skipped++;
      else if (event !== undefined) events.push(event);
    }
    return { timetoken, region, events, skipped };
  },
};
