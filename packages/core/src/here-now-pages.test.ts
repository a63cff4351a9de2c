import { describe, expect, test } from 'vitest';
import { createPresence, memoryCache, PresenceValidationError, type HereNowPage } from './index.js';
import { createMemoryTransport, type RecordedRequest, type ScriptedResponse } from './testing.js';
import { decodeNames } from './encoding.js';

/** A here-now service that pages (notes §3.1): `limit`/`offset` per channel, occupancy always the full count. */
function pagingService(rooms: Record<string, string[]>, groups: Record<string, string[]> = {}) {
  const respond = (request: RecordedRequest): ScriptedResponse => {
    const query = new Map(request.query);
    const limit = Number(query.get('limit') ?? 1000);
    const offset = Number(query.get('offset') ?? 0);
    const viaGroups = (query.get('channel-group') ?? '').split(',').filter(Boolean).flatMap((g) => groups[g] ?? []);
    const named = decodeNames(request.path.split('/channel/')[1]!).filter((n) => n !== '');
    const names = [...new Set([...named, ...viaGroups])];
    const entry = (name: string) => {
      const all = rooms[name] ?? [];
      return { occupancy: all.length, uuids: all.slice(offset, offset + limit) };
    };
    if (names.length === 1 && !query.has('channel-group')) return { body: { status: 200, message: 'OK', service: 'Presence', ...entry(names[0]!) } };
    const channels = Object.fromEntries(names.filter((n) => (rooms[n] ?? []).length > 0).map((n) => [n, entry(n)]));
    const total = Object.values(channels).reduce((sum, c) => sum + c.occupancy, 0);
    return { body: { status: 200, message: 'OK', service: 'Presence', payload: { channels, total_channels: Object.keys(channels).length, total_occupancy: total } } };
  };
  const transport = createMemoryTransport({ respond });
  return { transport, presence: createPresence({ subscribeKey: 'demo', userId: 'me', transport }) };
}

const users = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

async function pagesOf<S>(iterable: AsyncIterable<HereNowPage<S>>): Promise<HereNowPage<S>[]> {
  const pages: HereNowPage<S>[] = [];
  for await (const page of iterable) pages.push(page);
  return pages;
}

describe('hereNowPages', () => {
  test('walks limit/offset until every occupant is read, with hasMore from occupancy', async () => {
    const { presence, transport } = pagingService({ stadium: users('u', 2500) });
    const pages = await pagesOf(presence.hereNowPages({ channel: 'stadium', pageSize: 1000 }));
    expect(pages.map((p) => [p.offset, p.channels[0]!.occupants.length, p.hasMore])).toEqual([[0, 1000, true], [1000, 1000, true], [2000, 500, false]]);
    const ids = pages.flatMap((p) => p.channels[0]!.occupants.map((o) => o.userId));
    expect(ids).toEqual(users('u', 2500));
    expect(transport.requests.map((r) => r.query.filter(([k]) => k === 'limit' || k === 'offset'))).toEqual([
      [['limit', '1000']],
      [['limit', '1000'], ['offset', '1000']],
      [['limit', '1000'], ['offset', '2000']],
    ]);
  });

  test('an exact multiple of the page size needs no empty page', async () => {
    const { presence, transport } = pagingService({ room: users('u', 20) });
    const pages = await pagesOf(presence.hereNowPages({ channel: 'room', pageSize: 10 }));
    expect(pages.map((p) => p.hasMore)).toEqual([true, false]);
    expect(transport.requests).toHaveLength(2);
  });

  test('several channels: later pages ask only for the channels that have more', async () => {
    const { presence, transport } = pagingService({ a: users('a', 25), b: users('b', 5), c: [] });
    const pages = await pagesOf(presence.hereNowPages({ channels: ['a', 'b', 'c'], pageSize: 10, includeState: true }));
    expect(pages.map((p) => p.channels.map((c) => `${c.name}:${c.occupants.length}/${c.occupancy}`))).toEqual([
      ['a:10/25', 'b:5/5', 'c:0/0'],
      ['a:10/25'],
      ['a:5/25'],
    ]);
    expect(transport.requests.map((r) => r.path.split('/channel/')[1])).toEqual(['a,b,c', 'a', 'a']);
    expect(transport.requests.every((r) => r.query.some(([k, v]) => k === 'state' && v === '1'))).toBe(true);
    const all = await presence.hereNowAll({ channels: ['a', 'b', 'c'], pageSize: 10 });
    expect(all.channels.map((c) => [c.name, c.occupancy, c.occupants.length])).toEqual([['a', 25, 25], ['b', 5, 5], ['c', 0, 0]]);
    expect(all.totalOccupancy).toBe(30);
  });

  test('channel groups: the first page asks for the groups, later pages name the member channels that have more', async () => {
    const { presence, transport } = pagingService({ a: users('a', 25), b: users('b', 5), solo: users('s', 12) }, { g: ['a', 'b'] });
    const pages = await pagesOf(presence.hereNowPages({ channels: ['solo'], channelGroups: ['g'], pageSize: 10 }));
    expect(pages.map((p) => [p.offset, p.hasMore, p.channels.map((c) => `${c.name}:${c.occupants.length}/${c.occupancy}`)])).toEqual([
      [0, true, ['solo:10/12', 'a:10/25', 'b:5/5']],
      [10, true, ['solo:2/12', 'a:10/25']],
      [20, false, ['a:5/25']],
    ]);
    expect(transport.requests.map((r) => [r.path.split('/channel/')[1], new Map(r.query).get('channel-group')])).toEqual([
      ['solo', 'g'],
      ['solo,a', undefined],
      ['a', undefined],
    ]);
    const all = await presence.hereNowAll({ channelGroups: ['g'], pageSize: 10 });
    expect(all.channels.map((c) => [c.name, c.occupancy, new Set(c.occupants.map((o) => o.userId)).size])).toEqual([['a', 25, 25], ['b', 5, 5]]);
  });

  test('without user ids: one page of counts', async () => {
    const { presence, transport } = pagingService({ room: users('u', 3000) });
    const pages = await pagesOf(presence.hereNowPages({ channel: 'room', includeUserIds: false }));
    expect(pages).toHaveLength(1);
    expect(pages[0]!.hasMore).toBe(false);
    expect(transport.requests).toHaveLength(1);
  });

  test('each page passes the call options on: fresh pages skip the cache', async () => {
    const transport = createMemoryTransport({ respond: () => ({ body: { status: 200, message: 'OK', service: 'Presence', occupancy: 1, uuids: ['kim'] } }) });
    const presence = createPresence({ subscribeKey: 'demo', userId: 'me', transport, plugins: [memoryCache()] });
    await presence.hereNowAll({ channel: 'room' });
    await presence.hereNowAll({ channel: 'room' });
    expect(transport.requests).toHaveLength(1);
    await presence.hereNowAll({ channel: 'room' }, { fresh: true });
    expect(transport.requests).toHaveLength(2);
  });

  test('bad input throws at once, naming the field, and nothing is sent', () => {
    const { presence, transport } = pagingService({});
    const bad: Array<[unknown, string]> = [
      [{}, 'channels'],
      [{ channel: 'a', channels: ['b'] }, 'channel'],
      [{ channel: 5 }, 'channel'],
      [{ channel: 'a b' }, 'channels[0]'],
      [{ channels: [] }, 'channels'],
      [{ channels: [], channelGroups: [] }, 'channels'],
      [{ channelGroups: ['bad group'] }, 'channelGroups[0]'],
      [{ channel: 'a', pageSize: 0 }, 'pageSize'],
      [{ channel: 'a', pageSize: 1001 }, 'pageSize'],
      [{ channel: 'a', includeState: 'yes' }, 'includeState'],
      [{ channel: 'a', limit: 5 }, 'limit'],
      [{ channel: 'a', offset: 10 }, 'offset'],
    ];
    for (const [input, field] of bad) {
      let error: unknown;
      try {
        presence.hereNowPages(input as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(input)).toBeInstanceOf(PresenceValidationError);
      expect((error as PresenceValidationError).field).toBe(field);
    }
    expect(transport.requests).toHaveLength(0);
  });

  test('messages speak of hereNowPages, the call made, and point from limit/offset to pageSize', () => {
    const { presence, transport } = pagingService({});
    expect(() => presence.hereNowPages({ channel: 'a', pageSize: 0 })).toThrow('hereNowPages: pageSize must be a whole number from 1 to 1000; got 0.');
    expect(() => presence.hereNowPages({ channel: 'a', limit: 5 } as never)).toThrow(
      'hereNowPages: limit is not an option here: the pages walk limit/offset themselves; give pageSize (1–1000, default 1000) for the occupants per page.',
    );
    expect(transport.requests).toHaveLength(0);
  });
});
