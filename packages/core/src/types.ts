import type { PresenceEvents } from './events.js';
import type { Secret } from './secret.js';
import type { SafeLogger } from './logger.js';
import type { PresenceClient } from './client.js';

/** A JSON value, as presence state travels on the wire. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type OperationName = 'hereNow' | 'whereNow' | 'getPresenceState' | 'setPresenceState' | 'heartbeat' | 'leave' | 'subscribe';

/** One query parameter: its name and its raw (not yet percent-encoded) value. Order is kept. */
export type QueryParam = readonly [name: string, value: string];

/** An HTTP GET to the Presence REST API, before the transport puts it on the wire. */
export interface PresenceRequest {
  readonly operation: OperationName;
  /** The path, already percent-encoded, e.g. `/v2/presence/sub-key/demo/channel/a,b`. */
  readonly path: string;
  readonly query: readonly QueryParam[];
}

export interface PresenceResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export interface TransportContext {
  /** Fires on the caller's abort or the call's deadline; its `reason` is the typed error to throw. */
  readonly signal: AbortSignal;
  /**
   * When the whole call must have settled, as a `performance.now()` reading: a monotonic clock, so
   * a step of the wall clock never shortens or stretches a call. Compare with `performance.now()`.
   */
  readonly deadline: number;
  /** 1 for the first try, 2 for the first retry, … */
  readonly attempt: number;
  /**
   * Runs `listener` once, with the same typed reason as `signal`, if the call ends early (at once
   * if it already has); the returned function stops that. Prefer it to a listener on `signal`:
   * the client makes the AbortSignal only when it is read, and making one costs about 2 µs.
   * Absent when the call was copied by a middleware's spread; then use `signal`.
   */
  onCancel?(listener: (reason: Error) => void): () => void;
}

/** Sends one request and returns the raw response; the end of the middleware chain. */
export interface Transport {
  readonly name: string;
  /** Where requests go, e.g. `https://ps.pndsn.com`; part of every cache key. */
  readonly origin: string;
  send(request: PresenceRequest, context: TransportContext): Promise<PresenceResponse>;
  /** A transport may add middleware of its own (signing, for example). */
  apply?(stack: Stack): void;
  close?(): Promise<void> | void;
}

/**
 * Serde-style state codec: what a user's state type becomes on the wire and back.
 * `encode` returns the JSON text of a JSON object; `decode` takes the parsed JSON value from a response.
 * Both throw PresenceSerializationError on a value they refuse (core's default may throw a
 * PresenceValidationError for input that is not a JSON object at all: it is the caller's input).
 */
export interface StateSerializer<S> {
  /** Identifies the codec in cache keys, so differently decoded results never mix. */
  readonly id: string;
  encode(state: S): string;
  decode(value: JsonValue): S;
}

/** The client's options after validation: what operations and middleware read. */
export interface ResolvedConfig<S = unknown> {
  readonly subscribeKey: string;
  readonly publishKey: string | undefined;
  readonly secretKey: Secret | undefined;
  readonly authKey: Secret | undefined;
  readonly userId: string;
  readonly origin: string;
  readonly timeoutMs: number;
  readonly serializer: StateSerializer<S>;
  /** `pnsdk` value naming this SDK and its version. */
  readonly sdkName: string;
  readonly invalidState: 'throw' | 'omit';
  /** Decodes one user's state where it appears in a response, honouring `invalidState`. */
  decodeState(value: JsonValue, where: { operation: OperationName; channel: string; userId: string }): S | undefined;
}

/** The parts of a here-now question that make two questions the same. */
export interface CacheKeyParts {
  readonly channels: readonly string[];
  readonly channelGroups: readonly string[];
  readonly flags: Readonly<Record<string, string | number | boolean>>;
}

/** Channels and groups whose cached reads a write makes stale. */
export interface Invalidation {
  readonly channels: readonly string[];
  readonly channelGroups: readonly string[];
}

/**
 * An operation: plain data plus pure functions, one file each.
 * `I` is what the caller passes, `P` the validated parameters with defaults applied, `O` the result.
 */
export interface Operation<I, P, O> {
  readonly name: OperationName;
  /** Reads may be cached and coalesced; writes may invalidate. */
  readonly kind: 'read' | 'write';
  /** The input fields, in the order the builder offers them. */
  readonly fields: readonly (keyof I & string)[];
  /** Validates and applies defaults; throws PresenceValidationError. */
  prepare(input: I, config: ResolvedConfig): P;
  request(params: P, config: ResolvedConfig): PresenceRequest;
  /** Reads a successful body (envelope already checked); throws PresenceProtocolError on a bad shape. */
  parse(body: JsonObject, params: P, config: ResolvedConfig): O;
  cacheKey?(params: P): CacheKeyParts;
  invalidates?(params: P): Invalidation | undefined;
  /**
   * A long-poll the server holds open until something happens (subscribe): never cached, and never
   * retried by middleware; its caller (`watch()`) reconnects and resumes from its own cursor.
   */
  readonly longPoll?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperation = Operation<any, any, any>;

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the client's deadline for this call. */
  timeoutMs?: number | undefined;
  /**
   * Answer from upstream: caches step aside (they may still store the fresh answer). For reads
   * that must not be served from memory, such as a roster's seed (DESIGN §7).
   */
  fresh?: boolean | undefined;
}

/** One call as it travels down the stack. Middleware passes on new objects; it never mutates one. */
export interface Call {
  readonly id: number;
  readonly operation: AnyOperation;
  readonly params: unknown;
  readonly config: ResolvedConfig;
  /** Fires on the caller's abort or at the deadline; `reason` is a PresenceAbortError or PresenceTimeoutError. */
  readonly signal: AbortSignal;
  /** A `performance.now()` reading (monotonic), like `TransportContext.deadline`. */
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly attempt: number;
  /** The caller asked for an answer from upstream (`CallOptions.fresh`): caches must not answer it. */
  readonly fresh?: boolean | undefined;
  /** Set by the serialize step. */
  readonly request?: PresenceRequest | undefined;
}

export interface CallResult {
  readonly output?: unknown;
  readonly response?: PresenceResponse | undefined;
}

export type Handler = (call: Call) => Promise<CallResult>;

/** What every middleware can reach besides the call. */
export interface StackContext {
  readonly config: ResolvedConfig;
  readonly events: PresenceEvents;
  readonly logger: SafeLogger;
  /**
   * Calls started and not yet settled, by operation, kept by the client. Read it when you need it
   * (a metrics scrape, say) instead of counting `callStart` and `callEnd` events on the hot path.
   */
  readonly inflight: Readonly<Record<OperationName, number>>;
}

export type Middleware = (next: Handler, context: StackContext) => Handler;

export type Step = 'initialize' | 'serialize' | 'finalize' | 'deserialize';

export interface MiddlewareOptions {
  readonly name: string;
  readonly step: Step;
  /** Higher runs earlier (further out) within its step. Default 0. */
  readonly priority?: number;
}

export interface MiddlewareInfo {
  readonly name: string;
  readonly step: Step;
  readonly priority: number;
}

export interface Stack {
  add(middleware: Middleware, options: MiddlewareOptions): void;
  remove(name: string): boolean;
  has(name: string): boolean;
  /** Entries in the order a call meets them. */
  list(): MiddlewareInfo[];
  /** What middleware may read while being added (e.g. to validate against the config). */
  readonly context: StackContext;
  /** Runs when the client closes, in reverse order of registration. */
  onClose(hook: () => Promise<void> | void): void;
  /**
   * The retry budget a retry plugin installed (`retry()` sets it), so `watch()`'s reconnects draw
   * on the same bound as the calls' retries. Undefined when no retry plugin is installed.
   */
  retryBudget?: ReconnectBudget | undefined;
}

/** What `watch()` asks before each reconnect: a token bucket shared with the retries of calls. */
export interface ReconnectBudget {
  /** Takes the cost of one retry (a timeout's costs more); false, and nothing taken, when too few tokens are left. */
  acquire(timeout: boolean): boolean;
  /** A request succeeded at its first try: gives back a little. Returns whether the tokens changed. */
  refund(): boolean;
  /** Tokens left now. */
  readonly tokens: number;
}

/** A plugin validates its options in its factory and returns this. */
export interface Plugin {
  readonly name: string;
  apply(stack: Stack): void;
  /**
   * Called once, after every plugin's `apply`, with the finished client: for a plugin that makes
   * calls of its own through the client it serves (a roster watches presence events and reads
   * here-now). Stop such work in a `stack.onClose` hook.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  attach?(client: PresenceClient<any>): void;
}
