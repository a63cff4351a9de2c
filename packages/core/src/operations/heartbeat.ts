import { PresenceValidationError } from '../errors/validation-error.js';
import { checkInput, checkInteger, checkNames, checkUserId, describeValue, requireTargets } from '../validate.js';
import type { JsonValue, Operation, QueryParam } from '../types.js';
import { buildRequest, channelSegment, encodeState, groupParam, isObject, presencePath } from './shared.js';

/** JS clamps the presence timeout to at most 320 s (notes §4). */
export const MAX_HEARTBEAT_SECONDS = 320;

export interface HeartbeatInput<S = JsonValue> {
  channels?: readonly string[];
  channelGroups?: readonly string[];
  /** Seconds the service keeps the user present without another heartbeat. Default 300. */
  heartbeat?: number;
  /** State per channel (or group) name, set along with the heartbeat. */
  state?: Readonly<Record<string, S>>;
  /** Whose presence to announce, for a service acting for its users. Default: the client's own userId. */
  userId?: string;
}

export interface HeartbeatParams {
  readonly channels: readonly string[];
  readonly channelGroups: readonly string[];
  readonly heartbeat: number;
  /** The per-channel state map as JSON text, or undefined. */
  readonly stateText: string | undefined;
  readonly userId: string;
}

export const heartbeat: Operation<HeartbeatInput<unknown>, HeartbeatParams, void> = {
  name: 'heartbeat',
  kind: 'write',
  fields: ['channels', 'channelGroups', 'heartbeat', 'state', 'userId'],

  prepare(raw, config) {
    const input = checkInput('heartbeat', raw);
    const channels = checkNames('heartbeat', 'channels', input.channels);
    const channelGroups = checkNames('heartbeat', 'channelGroups', input.channelGroups);
    requireTargets('heartbeat', channels, channelGroups, input);
    const seconds = checkInteger('heartbeat', 'heartbeat', input.heartbeat, 300, 1, MAX_HEARTBEAT_SECONDS);
    const userId = checkUserId('heartbeat', 'userId', input.userId ?? config.userId);
    let stateText: string | undefined;
    if (input.state !== undefined) {
      if (!isObject(input.state)) {
        throw new PresenceValidationError('state', 'type', `heartbeat: state must map channel or group names to states; got ${describeValue(input.state)}.`, { operation: 'heartbeat' });
      }
      // The service stores state[ch] for channel ch (notes §3.5), so every key must be a target.
      const targets = new Set([...channels, ...channelGroups]);
      const parts: string[] = [];
      for (const [name, state] of Object.entries(input.state)) {
        if (!targets.has(name)) {
          throw new PresenceValidationError(`state.${name}`, 'unknown-channel', `heartbeat: state is given for "${name}", which is not in channels or channelGroups; add it there or remove its state.`, { operation: 'heartbeat' });
        }
        parts.push(`${JSON.stringify(name)}:${encodeState(config, state, { operation: 'heartbeat', channel: name, userId })}`);
      }
      stateText = `{${parts.join(',')}}`;
    }
    return { channels, channelGroups, heartbeat: seconds, stateText, userId };
  },

  request(params, config) {
    const query: QueryParam[] = [['heartbeat', String(params.heartbeat)], ...groupParam(params.channelGroups)];
    if (params.stateText !== undefined) query.push(['state', params.stateText]);
    // The service takes the heartbeat's user from `uuid`; commonParams adds the client's own otherwise.
    if (params.userId !== config.userId) query.push(['uuid', params.userId]);
    return buildRequest('heartbeat', presencePath(config, `${channelSegment(params.channels)}/heartbeat`), query, 'state');
  },

  parse() {},

  invalidates(params) {
    // A heartbeat that carries state changes what here-now shows with state.
    return params.stateText === undefined ? undefined : { channels: params.channels, channelGroups: params.channelGroups };
  },
};
