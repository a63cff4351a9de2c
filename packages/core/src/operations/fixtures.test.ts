import { describe, expect, test } from 'vitest';
import { createPresence, decodeNames, PresenceApiError, type JsonValue, type PresenceEvent } from '../index.js';
import { createMemoryTransport } from '../testing.js';
import { fixtureNames, readFixture, type Fixture } from '../../test/fixtures.js';

// Every recorded presence REST body in ../shared/protocol/fixtures is a case: a new fixture is a
// new case. The request each body answered is read from its notes (path and query), and the
// expected result is computed here by a small reader independent of the operations' parsers.

type Body = Record<string, any>;

// Subscribe bodies (presence events) are read by the subscribe cases below; an error body such as
// `error_400_invalid_subscribe_key` answers any endpoint and stays a REST case.
const isSubscribe = (name: string): boolean => /^(jsnock_)?subscribe_/.test(name);
const isRest = (name: string): boolean => !isSubscribe(name) && name !== 'official_js_sdk_12.0.3_wire_capture';

interface Question {
  operation: 'hereNow' | 'whereNow' | 'getPresenceState' | 'setPresenceState' | 'heartbeat' | 'leave';
  channels: string[];
  channelGroups: string[];
  query: Map<string, string>;
  userId?: string;
}

/** Reads the request a fixture answered from its notes. Placeholders get stand-in names. */
function questionOf(fixture: Fixture): Question {
  const line = /^REQUEST: GET (\S+)/m.exec(fixture.notes)?.[1] ?? '/v2/presence/sub-key/demo/channel/lobby';
  const [rawPath, rawQuery = ''] = line.split('?');
  const query = new Map<string, string>();
  for (const pair of rawQuery.split('&').filter(Boolean)) {
    const [k, v = ''] = pair.split('=');
    query.set(k!, decodeURIComponent(v));
  }
  // The JS SDK's nock matchers: `{ limit: 2, 'channel-group': 'cg1,cg2', state: '{"new":"state"}' }`.
  const matcher = /^QUERY \(nock matcher, exact\): \{(.*)\}/m.exec(fixture.notes)?.[1] ?? '';
  for (const m of matcher.matchAll(/'?([\w-]+)'?: ('([^']*)'|[\w.]+)/g)) query.set(m[1]!, m[3] ?? m[2]!);

  const path = rawPath!.replace(/\{ch1\},\{ch2\}/, 'ch1,ch2').replace(/\{channel\}|\{ch\}|<channels>/, 'lobby');
  const parts = path.split('/');
  const at = (name: string): string | undefined => {
    const i = parts.indexOf(name);
    return i >= 0 ? parts[i + 1] : undefined;
  };
  const channelSegment = at('channel');
  const channels = channelSegment === undefined ? [] : decodeNames(channelSegment);
  const channelGroups = query.get('channel-group')?.split(',').filter(Boolean) ?? [];
  const uuid = at('uuid');
  const userId = uuid === undefined ? undefined : decodeURIComponent(uuid).replace(/^\{uuid\}$/, 'someone');
  let operation: Question['operation'] = 'hereNow';
  if (path.endsWith('/data')) operation = 'setPresenceState';
  else if (path.endsWith('/heartbeat')) operation = 'heartbeat';
  else if (path.endsWith('/leave')) operation = 'leave';
  else if (uuid !== undefined) operation = channelSegment === undefined ? 'whereNow' : 'getPresenceState';
  return { operation, channels, channelGroups, query, userId: userId || undefined };
}

function inputOf(q: Question): Record<string, unknown> {
  const targets = { ...(q.channels.length ? { channels: q.channels } : {}), ...(q.channelGroups.length ? { channelGroups: q.channelGroups } : {}) };
  switch (q.operation) {
    case 'hereNow':
      return {
        // A question about no channel and no group is global here-now, asked for explicitly.
        ...(q.channels.length || q.channelGroups.length ? targets : { global: true }),
        includeState: q.query.get('state') === '1',
        includeUserIds: q.query.get('disable_uuids') !== '1',
        ...(q.query.has('limit') && Number(q.query.get('limit')) <= 1000 ? { limit: Number(q.query.get('limit')) } : {}),
      };
    case 'whereNow':
      return { userId: q.userId ?? 'someone' };
    case 'getPresenceState':
      return { ...targets, userId: q.userId ?? 'someone' };
    case 'setPresenceState': {
      const state = q.query.get('state');
      let parsed: unknown = { mood: 'ok' };
      try {
        if (state) parsed = JSON.parse(state);
      } catch {
        // a truncated state in the notes: any object will do, the body is what is checked
      }
      return { ...targets, state: parsed };
    }
    default:
      return targets;
  }
}

/** The reference reader: what a here-now body says, channel by channel. */
function hereNowTruth(body: Body, q: Question) {
  if ('occupancy' in body) {
    return { total: body.occupancy, channels: { [q.channels[0]!]: { occupancy: body.occupancy, uuids: body.uuids } } };
  }
  const channels: Record<string, { occupancy: number; uuids?: unknown[] }> = body.payload.channels ?? {};
  return { total: body.payload.total_occupancy, channels };
}

function userIdOf(entry: unknown): string {
  return typeof entry === 'string' ? entry : (entry as { uuid: string }).uuid;
}

async function run(fixture: Fixture) {
  const q = questionOf(fixture);
  const transport = createMemoryTransport({ respond: () => ({ status: fixture.httpStatus, body: fixture.body }) });
  const presence = createPresence({ subscribeKey: 'demo', userId: q.userId ?? 'me', transport });
  const call = (presence[q.operation] as (input: unknown) => Promise<unknown>)(inputOf(q));
  return { q, call, transport };
}

const names = fixtureNames().filter(isRest);

describe('every recorded presence REST body parses', () => {
  test('the fixture folder is there and holds the recorded bodies', () => {
    expect(names.length).toBeGreaterThanOrEqual(40);
  });

  for (const name of names) {
    test(name, async () => {
      const fixture = readFixture(name);
      const body = JSON.parse(fixture.body) as Body;
      const { q, call, transport } = await run(fixture);
      const saysError = fixture.httpStatus >= 400 || body.error !== undefined || (typeof body.status === 'number' && body.status >= 400);

      if (saysError) {
        const error = await call.then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(PresenceApiError);
        const api = error as PresenceApiError;
        expect(api.status).toBe(typeof body.status === 'number' ? body.status : fixture.httpStatus);
        expect(api.httpStatus).toBe(fixture.httpStatus);
        expect(api.service).toBe(body.service);
        expect(api.serviceMessage).toBe(body.message ?? body.error?.message);
        expect(api.retryable).toBe(api.status === 429 || api.status >= 500);
        if (body.payload?.channels) expect(api.channels).toEqual(body.payload.channels);
        return;
      }

      const result = (await call) as any;
      expect(transport.requests).toHaveLength(1);
      switch (q.operation) {
        case 'hereNow': {
          const truth = hereNowTruth(body, q);
          const includeUserIds = q.query.get('disable_uuids') !== '1';
          expect(result.totalOccupancy).toBe(truth.total);
          for (const [channel, entry] of Object.entries(truth.channels)) {
            const got = result.channels.find((c: { name: string }) => c.name === channel);
            expect(got, `channel ${channel}`).toBeDefined();
            expect(got.occupancy).toBe(entry.occupancy);
            const expectedIds = includeUserIds ? (entry.uuids ?? []).map(userIdOf) : [];
            expect(got.occupants.map((o: { userId: string }) => o.userId)).toEqual(expectedIds);
            for (const [i, raw] of (includeUserIds ? entry.uuids ?? [] : []).entries()) {
              const state = typeof raw === 'object' && raw !== null && 'state' in raw ? (raw as { state: JsonValue }).state : undefined;
              if (state === undefined) expect(got.occupants[i]).not.toHaveProperty('state');
              else expect(got.occupants[i].state).toEqual(state);
            }
          }
          // Every requested channel has an entry, and nothing is invented beyond those and the body's.
          for (const channel of q.channels) expect(result.channels.map((c: { name: string }) => c.name)).toContain(channel);
          expect(result.channels.length).toBe(new Set([...q.channels, ...Object.keys(truth.channels)]).size);
          break;
        }
        case 'whereNow':
          expect(result.channels).toEqual([...(body.payload?.channels ?? [])].sort());
          break;
        case 'getPresenceState': {
          const single = q.channels.length === 1 && q.channelGroups.length === 0;
          const map: Record<string, JsonValue> = single
            ? { [q.channels[0]!]: body.payload }
            : body.payload.channels ?? body.payload;
          expect(Object.fromEntries(result.state.map((s: { channelName: string; state: JsonValue }) => [s.channelName, s.state]))).toEqual(map);
          break;
        }
        case 'setPresenceState':
          expect(result.state).toEqual(body.payload);
          expect(result.channels).toEqual(q.channels);
          break;
        default:
          expect(result).toBeUndefined();
      }
    });
  }
});

describe('get-state multi form', () => {
  test('every requested channel gets an entry, in request order, even where the service has no state', async () => {
    const transport = createMemoryTransport({
      respond: () => ({ body: { status: 200, message: 'OK', payload: { channels: { b: { mood: 'ok' } } }, uuid: 'me', service: 'Presence' } }),
    });
    const presence = createPresence({ subscribeKey: 'demo', userId: 'me', transport });
    const { state } = await presence.getPresenceState({ channels: ['a', 'b', 'c'] });
    expect(state).toStrictEqual([
      { channelName: 'a', state: undefined },
      { channelName: 'b', state: { mood: 'ok' } },
      { channelName: 'c', state: undefined },
    ]);
  });
});

/** The reference reader for a subscribe body (notes §4), written apart from the descriptor's parser. */
function presenceEventsOf(body: Body): PresenceEvent[] {
  const types: Record<string, PresenceEvent['type']> = { join: 'join', leave: 'leave', timeout: 'timeout', 'state-change': 'stateChange', interval: 'interval' };
  return (body.m as Body[])
    .filter((m) => m.c.endsWith('-pnpres'))
    .map((m) => {
      const d = m.d;
      const base = {
        type: types[d.action]!,
        channel: m.c.replace(/-pnpres$/, ''),
        occupancy: Number(d.occupancy),
        timestamp: d.precise_timestamp ?? Number(d.timestamp) * 1000,
        timetoken: m.p.t,
      };
      if (d.action === 'interval') {
        return { ...base, joined: d.join ?? [], left: d.leave ?? [], timedOut: d.timeout ?? [], hereNowRefresh: d.here_now_refresh === true } as PresenceEvent;
      }
      const group = m.b && m.b !== m.c ? { group: m.b.replace(/-pnpres$/, '') } : {};
      const state = d.action === 'state-change' ? { state: d.data } : {};
      return { ...base, userId: d.uuid, ...state, ...group } as PresenceEvent;
    });
}

describe('every recorded subscribe body parses into presence events', () => {
  const subscribeNames = fixtureNames().filter(isSubscribe);

  test('the subscribe fixtures are there', () => {
    expect(subscribeNames.length).toBeGreaterThanOrEqual(7);
  });

  for (const name of subscribeNames) {
    test(name, async () => {
      const fixture = readFixture(name);
      const body = JSON.parse(fixture.body) as Body;
      const expected = presenceEventsOf(body);
      expect(expected.length).toBeGreaterThan(0);
      const transport = createMemoryTransport();
      // The handshake, then the recorded body, then a poll that is held until the watch ends.
      transport.enqueue({ body: { t: { t: '1', r: 1 }, m: [] } }, { body: fixture.body, headers: { 'content-type': 'text/javascript; charset="UTF-8"' } }, { delayMs: 60_000, body: {} });
      const presence = createPresence({ subscribeKey: 'demo', userId: 'me', transport });
      const channel = (body.m as Body[])[0]!.c.replace(/-pnpres$/, '');
      const seen: PresenceEvent[] = [];
      for await (const event of presence.watch({ channels: [channel] })) {
        seen.push(event);
        if (seen.length === expected.length) break;
      }
      expect(seen).toEqual(expected);
      // The next long-poll resumes from the body's cursor.
      expect(transport.requests[2]!.query).toEqual(expect.arrayContaining([['tt', body.t.t], ['tr', String(body.t.r)]]));
    });
  }

  test('error_400_invalid_subscribe_key ends a watch with the typed error', async () => {
    const fixture = readFixture('error_400_invalid_subscribe_key');
    const transport = createMemoryTransport({ respond: () => ({ status: fixture.httpStatus, body: fixture.body }) });
    const presence = createPresence({ subscribeKey: 'nope', userId: 'me', transport });
    const error = await presence.watch({ channels: ['lobby'] }).next().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PresenceApiError);
    expect(error).toMatchObject({ status: 400, service: 'Access Manager', serviceMessage: 'Invalid Subscribe Key', operation: 'subscribe' });
    expect(transport.requests).toHaveLength(1);
  });
});
