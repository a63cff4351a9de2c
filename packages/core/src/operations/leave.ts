import { checkInput, checkNames, checkUserId, requireTargets } from '../validate.js';
import type { Operation } from '../types.js';
import { buildRequest, channelSegment, groupParam, presencePath } from './shared.js';

export interface LeaveInput {
  channels?: readonly string[];
  channelGroups?: readonly string[];
  /** Who leaves, for a service acting for its users. Default: the client's own userId. */
  userId?: string;
}

export interface LeaveParams {
  readonly channels: readonly string[];
  readonly channelGroups: readonly string[];
  readonly userId: string;
}

export const leave: Operation<LeaveInput, LeaveParams, void> = {
  name: 'leave',
  kind: 'write',
  fields: ['channels', 'channelGroups', 'userId'],

  prepare(raw, config) {
    const input = checkInput('leave', raw);
    // Sorted, as the official SDK sends them (notes §3.6); repeats are already gone.
    const channels = checkNames('leave', 'channels', input.channels).sort();
    const channelGroups = checkNames('leave', 'channelGroups', input.channelGroups).sort();
    requireTargets('leave', channels, channelGroups, input);
    return { channels, channelGroups, userId: checkUserId('leave', 'userId', input.userId ?? config.userId) };
  },

  request(params, config) {
    // The service takes the leaving user from `uuid`; commonParams adds the client's own otherwise.
    const query = [...groupParam(params.channelGroups), ...(params.userId === config.userId ? [] : ([['uuid', params.userId]] as const))];
    return buildRequest('leave', presencePath(config, `${channelSegment(params.channels)}/leave`), query, 'channels');
  },

  parse() {},

  invalidates(params) {
    return { channels: params.channels, channelGroups: params.channelGroups };
  },
};
