import { PresenceValidationError } from '../errors/validation-error.js';
import { checkBoolean, checkInput, checkInteger, checkNames, MAX_LIMIT, requireTargets } from '../validate.js';
import type { JsonValue, Operation, QueryParam, ResolvedConfig } from '../types.js';
import { buildRequest, channelSegment, groupParam, isObject, orderNames, presencePath, readCount, readObject, shapeError } from './shared.js';

export interface HereNowInput {
  /** Channels to ask about. At least one channel or group, unless `global` is true; an empty list is an error. */
  channels?: readonly string[];
  channelGroups?: readonly string[];
  /**
   * `true` asks about every channel of the key (global here-now: deprecated by PubNub, off on new
   * keys, notes §8). Only this explicit form asks globally: without channels or groups and without
   * it, the call is a validation error, so a room list computed empty never lists everyone.
   */
  global?: boolean;
  /** Include each occupant's state. Default false. */
  includeState?: boolean;
  /** Include who is there, not only how many. Default true. */
  includeUserIds?: boolean;
  /** Occupants per channel, 0–1000. Default 1000. */
  limit?: number;
  /** Occupants to skip per channel. Default 0. */
  offset?: number;
}

export interface HereNowParams {
  readonly channels: readonly string[];
  readonly channelGroups: readonly string[];
  readonly includeState: boolean;
  readonly includeUserIds: boolean;
  readonly limit: number;
  readonly offset: number;
  readonly global: boolean;
}

export interface HereNowUser<S = JsonValue> {
  readonly userId: string;
  /** Present only when state was asked for and the user has one. */
  readonly state?: S;
}

export interface HereNowChannel<S = JsonValue> {
  readonly name: string;
  /** The full count, even when `limit`/`offset` page the occupants. */
  readonly occupancy: number;
  readonly occupants: readonly HereNowUser<S>[];
}

export interface HereNowResult<S = JsonValue> {
  readonly totalChannels: number;
  readonly totalOccupancy: number;
  /** Requested channels first, in request order, then the rest (from groups or global) by name. */
  readonly channels: readonly HereNowChannel<S>[];
}

/** One channel's occupants; a function of its own, not a closure made on every parse. */
function readUsers(channel: string, uuids: unknown, params: HereNowParams, config: ResolvedConfig): HereNowUser<unknown>[] {
  // `includeUserIds: false` or `limit=0`: the server sends no uuids (notes §3.1).
  if (!params.includeUserIds || uuids === undefined) return [];
  if (!Array.isArray(uuids)) throw shapeError('hereNow', `uuids of "${channel}" is not a list`);
  return uuids.map((entry): HereNowUser<unknown> => {
    if (typeof entry === 'string') return { userId: entry };
    if (!isObject(entry) || typeof entry.uuid !== 'string') throw shapeError('hereNow', `an occupant of "${channel}" has no uuid`);
    if (!('state' in entry) || entry.state === undefined) return { userId: entry.uuid };
    const state = config.decodeState(entry.state, { operation: 'hereNow', channel, userId: entry.uuid });
    return state === undefined ? { userId: entry.uuid } : { userId: entry.uuid, state };
  });
}

export const hereNow: Operation<HereNowInput, HereNowParams, HereNowResult<unknown>> = {
  name: 'hereNow',
  kind: 'read',
  fields: ['channels', 'channelGroups', 'global', 'includeState', 'includeUserIds', 'limit', 'offset'],

  prepare(raw) {
    const input = checkInput('hereNow', raw);
    const channels = checkNames('hereNow', 'channels', input.channels);
    const channelGroups = checkNames('hereNow', 'channelGroups', input.channelGroups);
    const global = checkBoolean('hereNow', 'global', input.global, false);
    if (!global) requireTargets('hereNow', channels, channelGroups, input, ', or pass global: true to ask about every channel of the key');
    else if (input.channels !== undefined || input.channelGroups !== undefined) {
      throw new PresenceValidationError('global', 'conflict', 'hereNow: global: true asks about every channel; leave out channels and channelGroups, or drop global to ask about those.', { operation: 'hereNow' });
    }
    return {
      channels,
      channelGroups,
      includeState: checkBoolean('hereNow', 'includeState', input.includeState, false),
      includeUserIds: checkBoolean('hereNow', 'includeUserIds', input.includeUserIds, true),
      limit: checkInteger('hereNow', 'limit', input.limit, MAX_LIMIT, 0, MAX_LIMIT),
      offset: checkInteger('hereNow', 'offset', input.offset, 0, 0, Number.MAX_SAFE_INTEGER),
      global,
    };
  },

  request(params, config) {
    // Query order as the official JS SDK sends it (notes §3.1); global here-now takes no paging.
    const query: QueryParam[] = [];
    if (!params.global) {
      query.push(['limit', String(params.limit)]);
      if (params.offset > 0) query.push(['offset', String(params.offset)]);
    }
    if (!params.includeUserIds) query.push(['disable_uuids', '1']);
    if (params.includeState) query.push(['state', '1']);
    query.push(...groupParam(params.channelGroups));
    const path = presencePath(config, params.global ? '' : channelSegment(params.channels));
    return buildRequest('hereNow', path, query, 'channels');
  },

  parse(body, params, config) {
    // Single form: exactly one channel and no group; the body carries `occupancy` at the top.
    if ('occupancy' in body) {
      const name = params.channels[0];
      if (name === undefined) throw shapeError('hereNow', 'a single-channel answer to a question about no single channel');
      const occupancy = readCount('hereNow', body.occupancy, 'occupancy');
      return { totalChannels: 1, totalOccupancy: occupancy, channels: [{ name, occupancy, occupants: readUsers(name, body.uuids, params, config) }] };
    }

    const payload = readObject('hereNow', body.payload, 'payload');
    const channels = payload.channels === undefined ? {} : readObject('hereNow', payload.channels, 'payload.channels');
    const result: HereNowChannel<unknown>[] = [];
    for (const name of orderNames(params.channels, Object.keys(channels))) {
      const entry = readObject('hereNow', channels[name], `payload.channels["${name}"]`);
      result.push({ name, occupancy: readCount('hereNow', entry.occupancy, `occupancy of "${name}"`), occupants: readUsers(name, entry.uuids, params, config) });
    }
    // The server leaves out empty channels (notes §3.1); every channel asked about still gets an entry.
    for (const name of params.channels) {
      if (!(name in channels)) result.splice(params.channels.indexOf(name), 0, { name, occupancy: 0, occupants: [] });
    }
    const counted = result.reduce((sum, channel) => sum + channel.occupancy, 0);
    return {
      totalChannels: payload.total_channels === undefined ? Object.keys(channels).length : readCount('hereNow', payload.total_channels, 'total_channels'),
      totalOccupancy: payload.total_occupancy === undefined ? counted : readCount('hereNow', payload.total_occupancy, 'total_occupancy'),
      channels: result,
    };
  },

  cacheKey(params) {
    // Order does not matter here: cacheKeyOf sorts the names.
    return {
      channels: params.channels,
      channelGroups: params.channelGroups,
      flags: {
        state: params.includeState,
        uuids: params.includeUserIds,
        limit: params.global ? 0 : params.limit,
        offset: params.global ? 0 : params.offset,
      },
    };
  },
};
