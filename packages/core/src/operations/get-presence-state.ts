import { encodeString } from '../encoding.js';
import { checkInput, checkNames, checkUserId, requireTargets } from '../validate.js';
import type { JsonValue, Operation } from '../types.js';
import { buildRequest, channelSegment, groupParam, isObject, orderNames, presencePath, readObject } from './shared.js';

export interface GetPresenceStateInput {
  channels?: readonly string[];
  /** Answers for every member channel of these groups. */
  channelGroups?: readonly string[];
  /** Default: the client's own userId. */
  userId?: string;
}

export interface GetPresenceStateParams {
  readonly channels: readonly string[];
  readonly channelGroups: readonly string[];
  readonly userId: string;
}

export interface GetStateInfo<S = JsonValue> {
  readonly channelName: string;
  /** Undefined when the user has no state there. */
  readonly state: S | undefined;
}

export interface GetStateResult<S = JsonValue> {
  /** Every requested channel, in request order (state undefined where there is none), then group members by name. */
  readonly state: readonly GetStateInfo<S>[];
}

export const getPresenceState: Operation<GetPresenceStateInput, GetPresenceStateParams, GetStateResult<unknown>> = {
  name: 'getPresenceState',
  kind: 'read',
  fields: ['channels', 'channelGroups', 'userId'],

  prepare(raw, config) {
    const input = checkInput('getPresenceState', raw);
    const channels = checkNames('getPresenceState', 'channels', input.channels);
    const channelGroups = checkNames('getPresenceState', 'channelGroups', input.channelGroups);
    requireTargets('getPresenceState', channels, channelGroups, input);
    return { channels, channelGroups, userId: checkUserId('getPresenceState', 'userId', input.userId ?? config.userId) };
  },

  request(params, config) {
    const path = presencePath(config, `${channelSegment(params.channels)}/uuid/${encodeString(params.userId)}`);
    return buildRequest('getPresenceState', path, groupParam(params.channelGroups), 'channels');
  },

  parse(body, params, config) {
    const decode = (channelName: string, value: unknown): GetStateInfo<unknown> => ({
      channelName,
      state:
        value === undefined || value === null
          ? undefined
          : config.decodeState(value as JsonValue, { operation: 'getPresenceState', channel: channelName, userId: params.userId }),
    });
    // Single form (one channel, no group): the payload IS the state. Otherwise the states are
    // under payload.channels, which the official JS SDK forgets to unwrap (notes §3.4).
    const single = params.channels.length === 1 && params.channelGroups.length === 0;
    const only = params.channels[0];
    if (single && only !== undefined) return { state: [decode(only, body.payload)] };
    const payload = readObject('getPresenceState', body.payload, 'payload');
    // Tolerate the un-wrapped map some mocks send (the official SDK's own tests do): use it when
    // there is no `channels` object and every key is a channel asked about.
    const unwrapped = !isObject(payload.channels) && Object.keys(payload).every((name) => params.channels.includes(name));
    const states = unwrapped ? payload : readObject('getPresenceState', payload.channels, 'payload.channels');
    // The service leaves out channels where the user has no state; every channel asked about still gets an entry.
    const names = orderNames(params.channels, Object.keys(states));
    for (const [index, name] of params.channels.entries()) if (!(name in states)) names.splice(index, 0, name);
    return { state: names.map((name) => decode(name, states[name])) };
  },
};
