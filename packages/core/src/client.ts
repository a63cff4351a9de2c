import { createBuilder, type Builder } from './builder.js';
import { checkTimeout, resolveConfig, type PresenceOptions } from './config.js';
import { CallFrame, transportContextOf } from './call-scope.js';
import { withDeadline, type DeadlineScope } from './deadline.js';
import { PresenceConfigurationError } from './errors/configuration-error.js';
import { PresenceError } from './errors/presence-error.js';
import { PresenceValidationError } from './errors/validation-error.js';
import { createEvents, deliver, LISTENERS, type Outcome, type PresenceEvents } from './events.js';
import { createSafeLogger } from './logger.js';
import { findUnknownKey, unknownKeyMessage } from './option-keys.js';
import {
  buildRequest,
  buildRequestOptions,
  commonParams,
  commonParamsOptions,
  parseResponse,
  parseResponseOptions,
} from './middleware/builtins.js';
import { getPresenceState, type GetPresenceStateInput, type GetStateResult } from './operations/get-presence-state.js';
import { heartbeat, type HeartbeatInput } from './operations/heartbeat.js';
import { hereNow, type HereNowInput, type HereNowResult } from './operations/here-now.js';
import { leave, type LeaveInput } from './operations/leave.js';
import { setPresenceState, type SetPresenceStateInput, type SetStateResult } from './operations/set-presence-state.js';
import { whereNow, type WhereNowInput, type WhereNowResult } from './operations/where-now.js';
import { subscribe, type SubscribeInput, type SubscribeResult } from './operations/subscribe.js';
import { hereNowAll, hereNowPages, type HereNowPage, type HereNowPagesInput } from './here-now-pages.js';
import { DEFAULT_SUBSCRIBE_TIMEOUT_MS, PresenceWatch, type WatchOptions } from './watch.js';
import { createStack } from './stack.js';
import type { AnyOperation, Call, CallOptions, Handler, JsonValue, Operation, OperationName, ResolvedConfig, Stack, StackContext } from './types.js';

export interface PresenceClient<S = JsonValue> {
  /** Who is in these channels (or groups; neither means everywhere), how many, with what state. */
  hereNow(input: HereNowInput, options?: CallOptions): Promise<HereNowResult<S>>;
  hereNow(): Builder<HereNowInput, HereNowResult<S>>;
  /** Which channels a user is in. */
  whereNow(input: WhereNowInput, options?: CallOptions): Promise<WhereNowResult>;
  whereNow(): Builder<WhereNowInput, WhereNowResult>;
  setPresenceState(input: SetPresenceStateInput<S>, options?: CallOptions): Promise<SetStateResult<S>>;
  setPresenceState(): Builder<SetPresenceStateInput<S>, SetStateResult<S>>;
  getPresenceState(input: GetPresenceStateInput, options?: CallOptions): Promise<GetStateResult<S>>;
  getPresenceState(): Builder<GetPresenceStateInput, GetStateResult<S>>;
  heartbeat(input: HeartbeatInput<S>, options?: CallOptions): Promise<void>;
  heartbeat(): Builder<HeartbeatInput<S>, void>;
  leave(input: LeaveInput, options?: CallOptions): Promise<void>;
  leave(): Builder<LeaveInput, void>;
  /**
   * Live presence events for channels and groups, as an async iterator (`for await`): join, leave,
   * timeout, stateChange and interval, resumed across reconnects with nothing lost or repeated.
   * An observer by default (never an occupant). Ends on `break`, `return()` or `signal`.
   */
  watch(options: WatchOptions<S>): PresenceWatch<S>;
  /** Here-now page by page (`limit`/`offset`), until every occupant is read. */
  hereNowPages(input: HereNowPagesInput, options?: CallOptions): AsyncIterable<HereNowPage<S>>;
  /** Every page of here-now collected into one result: all occupants, however many. */
  hereNowAll(input: HereNowPagesInput, options?: CallOptions): Promise<HereNowResult<S>>;
  /** Runs any operation descriptor through the stack. */
  send<I, P, O>(operation: Operation<I, P, O>, input: I, options?: CallOptions): Promise<O>;
  readonly events: PresenceEvents;
  readonly stack: Stack;
  readonly config: ResolvedConfig<S>;
  /** Closes plugins (Redis subscriptions, timers) and the transport. */
  close(): Promise<void>;
}

// Every key of CallOptions, checked at compile time: a new call option must be added here too.
const CALL_OPTION_KEYS = Object.keys({ signal: true, timeoutMs: true, fresh: true } satisfies Record<keyof CallOptions, true>);

/** Unknown keys in a call's input or options are a validation error: a misspelt field is never ignored. */
function rejectUnknownKeys(operation: AnyOperation, input: unknown, callOptions: CallOptions | undefined): void {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const unknown = findUnknownKey(input, operation.fields);
    if (unknown) throw new PresenceValidationError(unknown.key, 'unknown-field', unknownKeyMessage(operation.name, 'field', unknown, operation.fields), { operation: operation.name });
  }
  if (callOptions === undefined) return;
  if (typeof callOptions !== 'object' || callOptions === null) {
    throw new PresenceValidationError('options', 'type', `${operation.name}: the call options must be an object such as { signal, timeoutMs }.`, { operation: operation.name });
  }
  {
    const unknown = findUnknownKey(callOptions, CALL_OPTION_KEYS);
    if (unknown) throw new PresenceValidationError(unknown.key, 'unknown-option', unknownKeyMessage(`${operation.name} call options`, 'option', unknown, CALL_OPTION_KEYS), { operation: operation.name });
  }
}

function outcomeOf(error: unknown): Outcome {
  if (PresenceError.isInstance(error) && error.code !== 'configuration_error') return error.code;
  return 'protocol_error';
}

/** Creates a presence client. Options are validated here, so a bad one throws before any call. */
export function createPresence<S = JsonValue>(options: PresenceOptions<S>): PresenceClient<S> {
  // An observer's bug never breaks a call; it is logged (the event's name only) and the call goes on.
  const onListenerError = (_error: unknown, event: string): void => logger.warn({ reason: event }, 'a presence event listener threw; the call went on');
  const events = createEvents(onListenerError);
  const listeners = events[LISTENERS];
  const config = resolveConfig(options, events);
  const logger = createSafeLogger(options.logger);
  const subscribeTimeoutMs = checkTimeout('subscribeTimeoutMs', options.subscribeTimeoutMs, DEFAULT_SUBSCRIBE_TIMEOUT_MS);
  const inflight: Record<OperationName, number> = { hereNow: 0, whereNow: 0, getPresenceState: 0, setPresenceState: 0, heartbeat: 0, leave: 0, subscribe: 0 };
  const context: StackContext = { config: config, events, logger, inflight };
  const stack = createStack(context);
  const transport = options.transport;

  stack.add(buildRequest, buildRequestOptions);
  stack.add(commonParams, commonParamsOptions);
  stack.add(parseResponse, parseResponseOptions);
  transport.apply?.(stack);
  for (const [index, plugin] of (options.plugins ?? []).entries()) {
    if (typeof plugin !== 'object' || plugin === null || typeof plugin.apply !== 'function' || typeof plugin.name !== 'string') {
      throw new PresenceConfigurationError(`plugins[${index}]`, `createPresence: plugins[${index}] is not a plugin ({ name, apply(stack) }); call the plugin factory, e.g. retry() rather than retry.`);
    }
    plugin.apply(stack);
  }
  if (config.secretKey && !stack.has('signing')) {
    throw new PresenceConfigurationError('secretKey', 'createPresence: secretKey is set but nothing signs requests; use httpTransport() from @presence/transport-http, which signs them.');
  }

  // The end of the chain: one attempt on the transport, reported as an event.
  const terminal: Handler = async (call) => {
    // Timed only when someone listens for attempts (a listener added mid-attempt sees the next one).
    const started = listeners.attempt.length !== 0 ? performance.now() : 0;
    try {
      // The context makes the call's AbortSignal only if the transport reads it (httpTransport uses onCancel).
      const response = await transport.send(call.request!, transportContextOf(call));
      if (started !== 0) reportAttempt(call, started, response.status, undefined);
      return { response };
    } catch (error) {
      // A transport that rejects with a generic AbortError still yields the typed reason.
      const typed = call.signal.aborted && !PresenceError.isInstance(error) ? (call.signal.reason as unknown) : error;
      if (started !== 0) reportAttempt(call, started, undefined, PresenceError.isInstance(typed) ? typed : undefined);
      throw typed;
    }
  };
  const reportAttempt = (call: Call, started: number, status: number | undefined, error: PresenceError | undefined): void => {
    const durationMs = performance.now() - started;
    const { operation: { name: operation }, id: callId, attempt } = call;
    // Object literals, not spreads: this runs on every upstream attempt, and a spread into a fresh
    // object costs property-by-property copies. A response has a status and no error, never both.
    events.emit('attempt', status !== undefined ? { operation, callId, attempt, durationMs, status } : error ? { operation, callId, attempt, durationMs, error } : { operation, callId, attempt, durationMs });
  };

  let callIds = 0;
  let closed = false;
  async function send<I, P, O>(operation: Operation<I, P, O>, input: I, callOptions?: CallOptions): Promise<O> {
    const callId = ++callIds;
    let scope: DeadlineScope | undefined;
    // One clock reading serves the deadline and the call's duration.
    const started = performance.now();
    if (events.has('callStart')) events.emit('callStart', { operation: operation.name, callId });
    // Custom operations may carry other names; only the six known ones are counted.
    const counted = Object.hasOwn(inflight, operation.name);
    if (counted) inflight[operation.name]++;
    try {
      if (closed) throw new PresenceConfigurationError('client', `${operation.name}: the client is closed; create a new one.`);
      rejectUnknownKeys(operation, input, callOptions);
      if (callOptions?.fresh !== undefined && typeof callOptions.fresh !== 'boolean') {
        throw new PresenceValidationError('fresh', 'type', `${operation.name}: fresh must be true or false; got ${typeof callOptions.fresh}.`, { operation: operation.name });
      }
      let timeoutMs = config.timeoutMs;
      try {
        timeoutMs = checkTimeout('timeoutMs', callOptions?.timeoutMs, config.timeoutMs);
      } catch (error) {
        throw new PresenceValidationError('timeoutMs', 'range', `${operation.name}: ${(error as Error).message}`);
      }
      const params = operation.prepare(input, config);
      const handler = stack.resolve(terminal);
      const result = await withDeadline(
        operation.name,
        timeoutMs,
        callOptions?.signal,
        (callScope) => handler(new CallFrame(callId, operation, params, config as ResolvedConfig, (scope = callScope), timeoutMs, 1, undefined, callOptions?.fresh === true)),
        started,
      );
      // Read straight from the table: on a cached call even a call to `events.has` shows.
      const ends = listeners.callEnd;
      if (ends.length !== 0) deliver(ends, 'callEnd', { operation: operation.name, callId, outcome: 'success', durationMs: performance.now() - started, cache: scope?.cache }, onListenerError);
      return result.output as O;
    } catch (error) {
      if (PresenceError.isInstance(error) && error.operation === undefined) error.operation = operation.name;
      const outcome = outcomeOf(error);
      const ends = listeners.callEnd;
      if (ends.length !== 0) {
        deliver(ends, 'callEnd', { operation: operation.name, callId, outcome, durationMs: performance.now() - started, cache: scope?.cache, ...(PresenceError.isInstance(error) ? { error } : {}) }, onListenerError);
      }
      if (logger.enabled) {
        logger.debug({ operation: operation.name, outcome, code: PresenceError.isInstance(error) ? error.code : 'unknown', message: error instanceof Error ? error.message : undefined }, 'presence call failed');
      }
      throw error;
    } finally {
      if (counted) inflight[operation.name]--;
    }
  }

  // Both call styles over the same descriptor: an input runs the call, no input gives the builder.
  const method = <I, P, O>(operation: Operation<I, P, O>) =>
    (input?: I, callOptions?: CallOptions): Promise<O> | Builder<I, O> =>
      input === undefined
        ? createBuilder<I, O>(operation.fields, (built, options) => send(operation, built as I, options))
        : send(operation, input, callOptions);

  const sendSubscribe = (input: SubscribeInput<S>, callOptions: CallOptions) => send(subscribe, input, callOptions) as Promise<SubscribeResult<S>>;
  // Watches not yet ended, so close() can end them.
  const watches = new Set<PresenceWatch<S>>();
  const sendHereNow = (input: HereNowInput, callOptions?: CallOptions) => send(hereNow, input, callOptions) as Promise<HereNowResult<S>>;

  const client = {
    watch: (watchOptions: WatchOptions<S>) => {
      if (closed) throw new PresenceConfigurationError('client', 'watch: the client is closed; create a new one.');
      const watch = new PresenceWatch<S>(
        { config, events, logger, stack, subscribeTimeoutMs, send: sendSubscribe, leave: (input, callOptions) => send(leave, input, callOptions), heartbeat: (input, callOptions) => send(heartbeat, input, callOptions), ended: (w) => watches.delete(w) },
        watchOptions,
      );
      watches.add(watch);
      return watch;
    },
    hereNowPages: (input: HereNowPagesInput, callOptions?: CallOptions) => hereNowPages(sendHereNow, config as ResolvedConfig, input, callOptions),
    hereNowAll: (input: HereNowPagesInput, callOptions?: CallOptions) => hereNowAll(hereNowPages(sendHereNow, config as ResolvedConfig, input, callOptions)),
    hereNow: method(hereNow),
    whereNow: method(whereNow),
    setPresenceState: method(setPresenceState),
    getPresenceState: method(getPresenceState),
    heartbeat: method(heartbeat),
    leave: method(leave),
    send,
    events,
    stack,
    config,
    async close() {
      if (closed) return;
      closed = true;
      // Watches end quietly (a participant's leave still goes out) before the transport goes away.
      await Promise.all([...watches].map((watch) => watch.return()));
      await stack.close();
      await transport.close?.();
    },
  };
  const finished = client as unknown as PresenceClient<S>;
  // Plugins that make calls of their own get the client once every plugin is in the stack.
  for (const plugin of options.plugins ?? []) plugin.attach?.(finished);
  return finished;
}
