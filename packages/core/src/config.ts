import packageJson from '../package.json' with { type: 'json' };
import { PresenceConfigurationError } from './errors/configuration-error.js';
import { PresenceError } from './errors/presence-error.js';
import { PresenceSerializationError } from './errors/serialization-error.js';
import type { PresenceEvents } from './events.js';
import { jsonValues } from './json-values.js';
import type { Logger } from './logger.js';
import { Secret } from './secret.js';
import type { JsonValue, Plugin, ResolvedConfig, StateSerializer, Transport } from './types.js';
import { rejectUnknownOptions } from './option-keys.js';
import { describeValue, subscribeKeyProblem, userIdProblem } from './validate.js';

export const SDK_NAME = `Presence-TS-Nodejs/${packageJson.version}`;
export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 10 * 60_000;

export interface PresenceOptions<S = JsonValue> {
  subscribeKey: string;
  /** Who this client is: sent as `uuid` on every request and the default user of every call. */
  userId: string;
  /** Required with `secretKey`: it is part of the string PubNub signs. */
  publishKey?: string;
  /** Signs every request (signature v2). Never logged, never in an error. */
  secretKey?: string;
  /** Access Manager auth key or token, sent as `auth`. Never logged, never in an error. */
  authKey?: string;
  /** Sends requests: `httpTransport()` from `@presence/transport-http`, or a test transport. */
  transport: Transport;
  /** How state is typed and checked. Default: plain JSON values. */
  serializer?: StateSerializer<S>;
  plugins?: readonly Plugin[];
  /** Deadline for each call, covering every attempt and backoff. Default 10 000 ms. */
  timeoutMs?: number;
  /** Deadline of each subscribe long-poll (`watch()`). Default 310 000 ms, as the official SDKs use (notes §6). */
  subscribeTimeoutMs?: number;
  /** A pino-compatible logger; it only ever receives allow-listed, secret-free fields. */
  logger?: Logger;
  /** A state in a response that the serializer refuses: throw (default), or omit it and emit `stateDropped`. */
  invalidState?: 'throw' | 'omit';
}

// Every key of PresenceOptions, checked at compile time, so a new option cannot be forgotten here.
const OPTION_KEYS = Object.keys({
  subscribeKey: true, userId: true, publishKey: true, secretKey: true, authKey: true, transport: true,
  serializer: true, plugins: true, timeoutMs: true, subscribeTimeoutMs: true, logger: true, invalidState: true,
} satisfies Record<keyof PresenceOptions, true>);

function fail(field: string, message: string): never {
  throw new PresenceConfigurationError(field, `createPresence: ${message}`);
}

function requireString(options: Record<string, unknown>, field: string, required: boolean): string | undefined {
  const value = options[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    fail(field, `${field} must be a non-empty string${required ? '' : ' when given'}; find it in the PubNub admin portal under your key set.`);
  }
  return value;
}

export function checkTimeout(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_MS) {
    throw new PresenceConfigurationError(field, `${field} must be a number of milliseconds above 0 and at most ${MAX_TIMEOUT_MS}; got ${describeValue(value)}.`);
  }
  return value;
}

/** Validates the options once, at construction, naming the field at fault. */
export function resolveConfig<S>(raw: PresenceOptions<S>, events: PresenceEvents): ResolvedConfig<S> {
  if (typeof raw !== 'object' || raw === null) fail('options', 'pass an options object with at least subscribeKey, userId and transport.');
  const options = raw as unknown as Record<string, unknown>;
  rejectUnknownOptions('createPresence', options, OPTION_KEYS);
  const keyProblem = subscribeKeyProblem(options.subscribeKey);
  if (keyProblem) fail('subscribeKey', keyProblem);
  const subscribeKey = options.subscribeKey as string;
  const userProblem = userIdProblem('userId', options.userId);
  if (userProblem) fail('userId', `${userProblem.message} It is sent as uuid on every request.`);
  const userId = options.userId as string;
  const publishKey = requireString(options, 'publishKey', false);
  const secretKey = requireString(options, 'secretKey', false);
  const authKey = requireString(options, 'authKey', false);
  if (secretKey && !publishKey) {
    fail('publishKey', 'publishKey is required with secretKey: PubNub signs the publish key along with each request.');
  }
  const transport = raw.transport as Partial<Transport> | undefined;
  if (!transport || typeof transport.send !== 'function' || typeof transport.origin !== 'string') {
    fail('transport', 'transport must be a Transport with send() and origin, e.g. httpTransport() from @presence/transport-http.');
  }
  const serializer = (raw.serializer ?? jsonValues()) as StateSerializer<S>;
  if (typeof serializer.encode !== 'function' || typeof serializer.decode !== 'function' || typeof serializer.id !== 'string') {
    fail('serializer', 'serializer must have id, encode() and decode(), e.g. json() or bytes() from @presence/serializer.');
  }
  const invalidState = raw.invalidState ?? 'throw';
  if (invalidState !== 'throw' && invalidState !== 'omit') fail('invalidState', `invalidState must be "throw" or "omit"; got ${String(invalidState)}.`);
  const logger = raw.logger;
  if (logger !== undefined && (['debug', 'info', 'warn', 'error'] as const).some((level) => typeof logger[level] !== 'function')) {
    fail('logger', 'logger must have debug, info, warn and error methods (pino-compatible).');
  }
  if (raw.plugins !== undefined && !Array.isArray(raw.plugins)) fail('plugins', 'plugins must be an array of plugins.');

  return {
    subscribeKey,
    userId,
    publishKey,
    secretKey: secretKey === undefined ? undefined : new Secret(secretKey),
    authKey: authKey === undefined ? undefined : new Secret(authKey),
    origin: transport.origin,
    timeoutMs: checkTimeout('timeoutMs', raw.timeoutMs, DEFAULT_TIMEOUT_MS),
    serializer,
    sdkName: SDK_NAME,
    invalidState,
    decodeState(value, where) {
      try {
        return serializer.decode(value);
      } catch (error) {
        const problem = PresenceError.isInstance(error) && error.code === 'serialization_error'
          ? (error as PresenceSerializationError).at(where)
          : new PresenceSerializationError(`The state could not be decoded: ${error instanceof Error ? error.message : String(error)}`, { cause: error }).at(where);
        problem.operation = where.operation;
        if (invalidState === 'throw') throw problem;
        events.emit('stateDropped', { ...where, error: problem });
        return undefined;
      }
    },
  };
}
