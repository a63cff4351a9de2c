import { encodeString } from '../encoding.js';
import { checkInput, checkNames, checkUserId, requireTargets } from '../validate.js';
import type { JsonValue, Operation } from '../types.js';
import { buildRequest, channelSegment, encodeState, groupParam, presencePath } from './shared.js';

export interface SetPresenceStateInput<S = JsonValue> {
  /** The new state: replaces the old one on every channel given (no merge). */
  state: S;
  channels?: readonly string[];
  /** Sets the state on every member channel of these groups. */
  channelGroups?: readonly string[];
  /** Default: the client's own userId. */
  userId?: string;
}

export interface SetPresenceStateParams {
  readonly channels: readonly string[];
  readonly channelGroups: readonly string[];
  readonly userId: string;
  /** The state as JSON text, already encoded by the serializer. */
  readonly stateText: string;
}

export interface SetStateResult<S = JsonValue> {
  /** The first channel asked about (the first group when only groups were given). */
  readonly channel: string;
  readonly channels: readonly string[];
  /** The state as the service stored it. */
  readonly state: S;
}

export const setPresenceState: Operation<SetPresenceStateInput<unknown>, SetPresenceStateParams, SetStateResult<unknown>> = {
  name: 'setPresenceState',
  kind: 'write',
  fields: ['state', 'channels', 'channelGroups', 'userId'],

  prepare(raw, config) {
    const input = checkInput('setPresenceState', raw);
    const channels = checkNames('setPresenceState', 'channels', input.channels);
    const channelGroups = checkNames('setPresenceState', 'channelGroups', input.channelGroups);
    requireTargets('setPresenceState', channels, channelGroups, input);
    const userId = checkUserId('setPresenceState', 'userId', input.userId ?? config.userId);
    const where = { operation: 'setPresenceState' as const, channel: [...channels, ...channelGroups].join(','), userId };
    return { channels, channelGroups, userId, stateText: encodeState(config, input.state, where) };
  },

  request(params, config) {
    const path = presencePath(config, `${channelSegment(params.channels)}/uuid/${encodeString(params.userId)}/data`);
    return buildRequest('setPresenceState', path, [['state', params.stateText], ...groupParam(params.channelGroups)], 'state');
  },

  parse(body, params, config) {
    const channel = params.channels[0] ?? params.channelGroups[0] ?? '';
    // The service echoes the stored state as the payload, not keyed by channel (notes §3.3).
    const echoed = (body.payload ?? JSON.parse(params.stateText)) as JsonValue;
    const state = config.decodeState(echoed, { operation: 'setPresenceState', channel, userId: params.userId });
    return { channel, channels: params.channels, state };
  },

  invalidates(params) {
    return { channels: params.channels, channelGroups: params.channelGroups };
  },
};
