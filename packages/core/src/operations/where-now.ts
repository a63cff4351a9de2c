import { encodeString } from '../encoding.js';
import { checkInput, checkUserId } from '../validate.js';
import type { Operation } from '../types.js';
import { buildRequest, isObject, presencePath, shapeError } from './shared.js';

export interface WhereNowInput {
  /** Whose channels to list. Default: the client's own userId. */
  userId?: string;
}

export interface WhereNowParams {
  readonly userId: string;
}

export interface WhereNowResult {
  /** Sorted by name (the server's order is arbitrary). */
  readonly channels: readonly string[];
}

export const whereNow: Operation<WhereNowInput, WhereNowParams, WhereNowResult> = {
  name: 'whereNow',
  kind: 'read',
  fields: ['userId'],

  prepare(raw, config) {
    const input = checkInput('whereNow', raw);
    return { userId: checkUserId('whereNow', 'userId', input.userId ?? config.userId) };
  },

  request(params, config) {
    return buildRequest('whereNow', presencePath(config, `/uuid/${encodeString(params.userId)}`), [], 'userId');
  },

  parse(body) {
    // A body without payload means "nowhere" (the official SDK's own test, notes §3.2).
    if (body.payload === undefined) return { channels: [] };
    const channels = isObject(body.payload) ? body.payload.channels : undefined;
    if (!Array.isArray(channels) || !channels.every((c) => typeof c === 'string')) {
      throw shapeError('whereNow', 'payload.channels is not a list of names');
    }
    return { channels: [...(channels)].sort() };
  },
};
