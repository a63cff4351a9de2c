import type { HereNowParams, HereNowResult, Middleware, MiddlewareOptions, PresenceEventMap, RosterAnswerResult, Stack } from '@presence/core';
import { answerHereNow, type RosterView } from './answer-here-now.js';

/** What the answering middleware asks of a roster (its own, or a fleet mirror's). */
export interface AnswerSource<S> extends RosterView<S> {
  /** Whether the roster watches this channel (seeded or not), or this group. */
  watches(channel: string): boolean;
  watchesGroup(group: string): boolean;
  /** Why nothing can be answered at all now (not seeded, leader gone), or undefined when answers may be given. */
  unavailable(): 'not_ready' | 'stale' | undefined;
  /** Why this channel cannot be answered now, when the roster watches it but may be wrong about it. */
  doubtful(channel: string): 'not_ready' | 'write_fence' | undefined;
  /** How long since the roster last heard from the service (or its leader), in ms. */
  stalenessMs(): number;
  /** The watched channels and groups of a write through this client: answers wait for its event. */
  noteWrite?(channels: readonly string[], channelGroups: readonly string[], userId: string): void;
}

/** Where the roster sits: in `initialize`, ahead of any cache (priority 100), so it answers first. */
export const ROSTER_MIDDLEWARE: MiddlewareOptions = { name: 'roster', step: 'initialize', priority: 200 };


/**
 * Answers here-now from the roster when it can say exactly what the service would; any other
 * call, and any question it cannot answer exactly, goes on down the stack unchanged. Writes pass
 * through and fence the channels they touch until the roster has seen their events.
 */
export function rosterAnswerMiddleware<S>(source: AnswerSource<S>, store: 'memory' | 'mirror' | (() => 'memory' | 'mirror')): Middleware {
  return (next, { events, config }) => {
    const report = (result: RosterAnswerResult): void => {
      if (events.has('rosterAnswer')) events.emit('rosterAnswer', { operation: 'hereNow', result, store: typeof store === 'function' ? store() : store, stalenessMs: source.stalenessMs() } satisfies PresenceEventMap['rosterAnswer']);
    };
    return async (call) => {
      const { operation } = call;
      if (operation.kind === 'write') {
        const result = await next(call);
        const touched = operation.invalidates?.(call.params);
        const userId = (call.params as { userId?: string }).userId ?? config.userId;
        if (touched && source.noteWrite) source.noteWrite(touched.channels, touched.channelGroups, userId);
        return result;
      }
      // A fresh call is not a question for the roster (its own seed reads are such calls): not reported either.
      if (operation.name !== 'hereNow' || call.fresh === true) return next(call);
      const outcome = answer(source, call.params as HereNowParams);
      report(typeof outcome === 'string' ? outcome : 'hit');
      if (typeof outcome === 'string') return next(call);
      return { output: outcome };
    };
  };
}

function answer<S>(source: AnswerSource<S>, params: HereNowParams): HereNowResult<S> | RosterAnswerResult {
  if (params.global) return 'global';
  const down = source.unavailable();
  if (down) return down;
  for (const channel of params.channels) {
    if (!source.channel(channel)) return source.watches(channel) ? 'not_ready' : 'unwatched';
    const doubt = source.doubtful(channel);
    if (doubt) return doubt;
  }
  for (const group of params.channelGroups) {
    const members = source.groupChannels(group);
    if (!members) return source.watchesGroup(group) ? 'not_ready' : 'unwatched';
    for (const channel of members) {
      const doubt = source.doubtful(channel);
      if (doubt) return doubt;
    }
  }
  return answerHereNow(source, params) ?? 'not_ready';
}

/** Adds the answering middleware and nothing else; a stack that has one already is a construction error. */
export function addAnswerMiddleware<S>(stack: Stack, source: AnswerSource<S>, store: 'memory' | 'mirror' | (() => 'memory' | 'mirror')): void {
  stack.add(rosterAnswerMiddleware(source, store), ROSTER_MIDDLEWARE);
}
