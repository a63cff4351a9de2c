import { PresenceError } from '../errors/presence-error.js';
import { PresenceProtocolError } from '../errors/protocol-error.js';
import type { PresenceSerializationError } from '../errors/serialization-error.js';
import { PresenceValidationError } from '../errors/validation-error.js';
import { encodeNames, encodeQuery, encodeString } from '../encoding.js';
import { checkUrlSize } from '../validate.js';
import { isObject } from '../envelope.js';
import type { JsonObject, OperationName, PresenceRequest, QueryParam, ResolvedConfig } from '../types.js';

export { isObject };

/** `/v2/presence/sub-key/{sub}` and what follows it. */
export function presencePath(config: ResolvedConfig, rest = ''): string {
  return `/v2/presence/sub-key/${encodeString(config.subscribeKey)}${rest}`;
}

export function channelSegment(channels: readonly string[]): string {
  return `/channel/${encodeNames(channels)}`;
}

/** `channel-group=g1,g2` (joined raw, then encoded as a whole, as the official SDK does). */
export function groupParam(channelGroups: readonly string[]): QueryParam[] {
  return channelGroups.length ? [['channel-group', channelGroups.join(',')]] : [];
}

// Room for what the client adds later (uuid, requestid, pnsdk, auth, timestamp, signature) and the origin.
const COMMON_PARAMS_ALLOWANCE = 512;

/** Builds the request and refuses it, before anything is sent, if the GET would be too long for PubNub. */
export function buildRequest(operation: OperationName, path: string, query: readonly QueryParam[], field: string): PresenceRequest {
  const bytes = Buffer.byteLength(path) + Buffer.byteLength(encodeQuery(query)) + COMMON_PARAMS_ALLOWANCE;
  checkUrlSize(operation, field, bytes);
  return { operation, path, query };
}


export function shapeError(operation: OperationName, what: string): PresenceProtocolError {
  return new PresenceProtocolError(
    `${operation}: the response does not have the shape PubNub documents (${what}). Check that the origin is a PubNub presence service.`,
    { operation },
  );
}

export function readCount(operation: OperationName, value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw shapeError(operation, `${what} is not a count`);
  return value;
}

export function readObject(operation: OperationName, value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw shapeError(operation, `${what} is not an object`);
  return value;
}

/** Requested names first, in request order, then the rest sorted: deterministic whatever the server's key order. */
export function orderNames(requested: readonly string[], present: Iterable<string>): string[] {
  const rest = new Set(present);
  const ordered: string[] = [];
  for (const name of requested) {
    if (rest.delete(name)) ordered.push(name);
  }
  return [...ordered, ...[...rest].sort()];
}

/** The serializer's JSON text for a state; a refusal is placed at the channel and user it was meant for. */
export function encodeState(
  config: ResolvedConfig,
  state: unknown,
  where: { operation: OperationName; channel: string; userId: string },
): string {
  let text: string;
  try {
    text = config.serializer.encode(state);
  } catch (error) {
    if (PresenceError.isInstance(error) && error.code === 'serialization_error') {
      const placed = (error as PresenceSerializationError).at(where);
      placed.operation = where.operation;
      throw placed;
    }
    throw error;
  }
  // PubNub stores only JSON objects as state (notes §8); a serializer must not send anything else.
  if (typeof text !== 'string' || !text.startsWith('{') || !text.endsWith('}')) {
    throw new PresenceValidationError('state', 'json-object', `${where.operation}: the serializer "${config.serializer.id}" did not produce a JSON object; PubNub stores only objects as state.`, { operation: where.operation });
  }
  return text;
}

