// Scripted upstreams for the tests and the benchmark. Nothing here imports the cache itself, so the
// benchmark can use these next to the built package.
import type { JsonValue } from '@presence/core';
import { createMemoryTransport, type MemoryTransport, type ScriptedResponse } from '@presence/core/testing';

/** A here-now answer in the single-channel form, as the service sends it. */
export function singleChannelBody(uuids: readonly string[]): JsonValue {
  return { status: 200, message: 'OK', occupancy: uuids.length, uuids: [...uuids], service: 'Presence' };
}

/** Memory transport answering every here-now with `uuids` (or what `uuids()` returns now), after `delayMs`. */
export function hereNowTransport(options: { delayMs?: number; uuids?: () => readonly string[]; status?: () => number } = {}): MemoryTransport {
  return createMemoryTransport({
    respond: (request): ScriptedResponse => {
      // A write answers as the service does; the reads below answer here-now.
      if (request.operation === 'setPresenceState') return { body: { status: 200, message: 'OK', payload: {}, service: 'Presence' } };
      const status = options.status?.() ?? 200;
      if (status !== 200) return { status, body: { status, error: true, message: 'Server error', service: 'Presence' } };
      return { body: singleChannelBody(options.uuids?.() ?? ['alice', 'bob']), delayMs: options.delayMs ?? 0 };
    },
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
