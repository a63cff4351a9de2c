import { checkInput, checkNames, requireTargets } from '../validate.js';
import type { Operation } from '../types.js';
import { buildRequest, channelSegment, groupParam, presencePath } from './shared.js';

export interface LeaveInput {
  channels?: readonly string[];
  channelGroups?: readonly string[];
}

export interface LeaveParams {
  readonly channels: readonly string[];
  readonly channelGroups: readonly string[];
}

export const leave: Operation<LeaveInput, LeaveParams, void> = {
  name: 'leave',
  kind: 'write',
  fields: ['channels', 'channelGroups'],

  prepare(raw) {
    const input = checkInput('leave', raw);
    // Sorted, as the official SDK sends them (notes §3.6); repeats are already gone.
    const channels = checkNames('leave', 'channels', input.channels).sort();
    const channelGroups = checkNames('leave', 'channelGroups', input.channelGroups).sort();
    requireTargets('leave', channels, channelGroups);
    return { channels, channelGroups };
  },

  request(params, config) {
    return buildRequest('leave', presencePath(config, `${channelSegment(params.channels)}/leave`), groupParam(params.channelGroups), 'channels');
  },

  parse() {},

  invalidates(params) {
    return { channels: params.channels, channelGroups: params.channelGroups };
  },
};
