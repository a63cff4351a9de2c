// Client
export { createPresence, type PresenceClient } from './client.js';
export { DEFAULT_TIMEOUT_MS, SDK_NAME, type PresenceOptions } from './config.js';
export { createBuilder, type Builder } from './builder.js';

// Operations
export { hereNow, type HereNowInput, type HereNowParams, type HereNowResult, type HereNowChannel, type HereNowUser } from './operations/here-now.js';
export { whereNow, type WhereNowInput, type WhereNowParams, type WhereNowResult } from './operations/where-now.js';
export { setPresenceState, type SetPresenceStateInput, type SetPresenceStateParams, type SetStateResult } from './operations/set-presence-state.js';
export { getPresenceState, type GetPresenceStateInput, type GetPresenceStateParams, type GetStateResult, type GetStateInfo } from './operations/get-presence-state.js';
export { heartbeat, MAX_HEARTBEAT_SECONDS, type HeartbeatInput, type HeartbeatParams } from './operations/heartbeat.js';
export { leave, type LeaveInput, type LeaveParams } from './operations/leave.js';
export { subscribe, PRESENCE_SUFFIX, type PresenceEvent, type SubscribeInput, type SubscribeParams, type SubscribeResult } from './operations/subscribe.js';

// Live presence and paging
export { PresenceWatch, DEFAULT_SUBSCRIBE_TIMEOUT_MS, watchReconnectReasonOf, type WatchOptions } from './watch.js';
export { hereNowPages, hereNowAll, type HereNowPage, type HereNowPagesInput } from './here-now-pages.js';

// Contracts
export type {
  AnyOperation,
  Call,
  CallOptions,
  CallResult,
  CacheKeyParts,
  Handler,
  Invalidation,
  JsonObject,
  JsonValue,
  Middleware,
  MiddlewareInfo,
  MiddlewareOptions,
  Operation,
  OperationName,
  Plugin,
  PresenceRequest,
  PresenceResponse,
  ReconnectBudget,
  QueryParam,
  ResolvedConfig,
  Stack,
  StackContext,
  StateSerializer,
  Step,
  Transport,
  TransportContext,
} from './types.js';
export { createStack, type ComposableStack } from './stack.js';

// Errors
export { PresenceError, type ErrorCode, type PresenceErrorOptions } from './errors/presence-error.js';
export { PresenceValidationError } from './errors/validation-error.js';
export { PresenceConfigurationError } from './errors/configuration-error.js';
export { PresenceApiError, type PresenceApiErrorInit } from './errors/api-error.js';
export { PresenceProtocolError, type PresenceProtocolErrorOptions } from './errors/protocol-error.js';
export { PresenceNetworkError, type PresenceNetworkErrorOptions } from './errors/network-error.js';
export { PresenceTimeoutError } from './errors/timeout-error.js';
export { PresenceAbortError } from './errors/abort-error.js';
export { PresenceSerializationError, type PresenceSerializationErrorOptions } from './errors/serialization-error.js';
export { retryReasonOf } from './errors/retry-reason.js';

// Events and logging
export {
  createEvents,
  type CacheResult,
  type Outcome,
  type PresenceEventMap,
  type PresenceEventName,
  type PresenceEvents,
  type PresenceListener,
  type RetryReason,
  type WatchEventType,
  type WatchReconnectReason,
  type RosterAnswerResult,
  type RosterRole,
  type RosterSeedReason,
} from './events.js';
export { createSafeLogger, type LogFields, type Logger, type SafeLogger } from './logger.js';

// Wire helpers shared with transports
export { decodeNames, encodeNames, encodeParam, encodeQuery, encodeString, requestTarget } from './encoding.js';
export { parseRetryAfter, readEnvelope } from './envelope.js';
export { excerptOf, scrubSecrets, Secret } from './secret.js';
export { sleep, withDeadline } from './deadline.js';
export { deriveCall, type CallChanges, type CallScope } from './call-scope.js';
export { describeValue, MAX_LIMIT, MAX_NAME_LENGTH, MAX_URL_BYTES } from './validate.js';
export { closestName, findUnknownKey, rejectUnknownOptions, unknownKeyMessage, type UnknownKey } from './option-keys.js';

// State
export { jsonValues } from './json-values.js';

// Cache
export type { CacheSetOptions, CacheStore } from './cache/cache-store.js';
export { authPartition, cacheKeyOf, cacheTagsOf, invalidationTagsOf } from './cache/cache-key.js';
export { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from './cache/memory-store.js';
export { createSingleFlight, type FlightScope, type SingleFlight } from './cache/single-flight.js';
export { deepFreeze } from './cache/deep-freeze.js';
export { cacheEvent, cacheEvents, cacheReporter, type CacheEventTable, type CacheReport } from './cache/cache-event.js';
export { noteCacheResult } from './call-scope.js';
export { memoryCache, type MemoryCacheOptions, type MemoryCachePlugin } from './cache/memory-cache.js';
