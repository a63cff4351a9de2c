import { PresenceNetworkError } from '../src/errors/network-error.js';
import type { JsonObject } from '../src/types.js';
import { createMemoryTransport, type MemoryTransport, type RecordedRequest, type ScriptedResponse } from '../src/testing.js';

/** What can go wrong with one long-poll, as a network or a service would do it. */
export type Fault = 'reset' | '500' | '429' | 'hang' | 'garbage' | '400' | '403';

export interface FakeSubscribeService {
  readonly transport: MemoryTransport;
  /** Publishes a presence event on `<channel>-pnpres`; returns its timetoken. */
  publish(channel: string, data: JsonObject, via?: string): string;
  /** Every envelope published so far, in order. */
  readonly published: readonly JsonObject[];
  /** Faults for the next long-polls (those with `tt`), one each, in order. */
  failNextPolls(...faults: Fault[]): void;
  /** Faults for the next handshakes. */
  failNextHandshakes(...faults: Fault[]): void;
  /** Subscribe requests seen, as `tt` values (undefined for a handshake). */
  readonly cursors: (string | undefined)[];
}

function faulty(fault: Fault, hangMs: number): ScriptedResponse {
  switch (fault) {
    case 'reset':
      return { error: new PresenceNetworkError('socket hang up', 'ECONNRESET') };
    case '500':
      return { status: 500, body: { status: 500, error: 1, message: 'Internal Server Error', service: 'Presence' } };
    case '429':
      return { status: 429, body: { status: 429, error: true, message: 'Too many requests.' }, headers: { 'retry-after': '0' } };
    case '400':
      return { status: 400, body: { message: 'Invalid Subscribe Key', error: true, service: 'Access Manager', status: 400 } };
    case '403':
      return { status: 403, body: { message: 'Forbidden', payload: { channels: ['lobby-pnpres'] }, error: true, service: 'Access Manager', status: 403 } };
    case 'hang':
      return { delayMs: hangMs, body: {} };
    case 'garbage':
      return { body: '{"t":{"t":"1' };
  }
}

/**
 * A scripted subscribe service over the memory transport, with PubNub's long-poll semantics
 * (notes §4): a handshake returns the current cursor; a poll returns every event after its `tt`
 * (and the newest cursor), or holds for `holdMs` and returns none.
 */
export function createFakeSubscribeService(options: { holdMs?: number; hangMs?: number; batch?: number } = {}): FakeSubscribeService {
  const holdMs = options.holdMs ?? 20;
  const hangMs = options.hangMs ?? 60_000;
  const batch = options.batch ?? 100;
  const published: JsonObject[] = [];
  const pollFaults: Fault[] = [];
  const handshakeFaults: Fault[] = [];
  const cursors: (string | undefined)[] = [];
  let clock = 17_000_000_000_000_000n;
  const next = (): string => String((clock += 10n));

  const respond = (request: RecordedRequest): ScriptedResponse => {
    const tt = request.query.find(([name]) => name === 'tt')?.[1];
    cursors.push(tt);
    const fault = tt === undefined ? handshakeFaults.shift() : pollFaults.shift();
    if (fault) return faulty(fault, hangMs);
    if (tt === undefined) return { body: { t: { t: String(clock), r: 7 }, m: [] } };
    const after = published.filter((e) => BigInt((e.p as { t: string }).t) > BigInt(tt)).slice(0, batch);
    if (after.length === 0) return { delayMs: holdMs, body: { t: { t: tt, r: 7 }, m: [] } };
    return { body: { t: { t: (after.at(-1)!.p as { t: string }).t, r: 7 }, m: after } };
  };

  return {
    transport: createMemoryTransport({ respond }),
    published,
    cursors,
    publish(channel, data, via) {
      const t = next();
      published.push({ a: '4', f: 0, p: { t, r: 7 }, k: 'demo', c: `${channel}-pnpres`, d: data, b: `${via ?? channel}-pnpres` });
      return t;
    },
    failNextPolls: (...faults) => void pollFaults.push(...faults),
    failNextHandshakes: (...faults) => void handshakeFaults.push(...faults),
  };
}
