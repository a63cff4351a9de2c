import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  createPresence,
  PresenceApiError,
  PresenceSerializationError,
  PresenceValidationError,
  type PresenceEvent,
  type PresenceEventMap,
  type PresenceOptions,
  type ReconnectBudget,
  type StateSerializer,
} from './index.js';
import { createMemoryTransport, type ScriptedResponse } from './testing.js';
import { createFakeSubscribeService, type FakeSubscribeService } from '../test/subscribe-service.js';

function client(service: FakeSubscribeService, extra: Partial<PresenceOptions> = {}) {
  const presence = createPresence({ subscribeKey: 'demo', userId: 'watcher', transport: service.transport, ...extra });
  const reconnects: PresenceEventMap['watchReconnect'][] = [];
  const delivered: PresenceEventMap['watchEvent'][] = [];
  presence.events.on('watchReconnect', (e) => reconnects.push(e));
  presence.events.on('watchEvent', (e) => delivered.push(e));
  return { presence, reconnects, delivered };
}

async function collect<S>(iterator: AsyncIterable<PresenceEvent<S>>, count: number): Promise<PresenceEvent<S>[]> {
  const seen: PresenceEvent<S>[] = [];
  for await (const event of iterator) {
    seen.push(event);
    if (seen.length === count) break;
  }
  return seen;
}

const join = (uuid: string, occupancy: number) => ({ action: 'join', uuid, occupancy, timestamp: 1757969434, precise_timestamp: 1757969434794 });
const fast = { baseDelayMs: 5, maxDelayMs: 20 };
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('presence.watch()', () => {
  test('an observer handshakes, then long-polls the -pnpres twins from the last cursor', async () => {
    const service = createFakeSubscribeService();
    const { presence } = client(service);
    service.publish('lobby', join('old', 1)); // before the watch: never delivered
    const connects: { timetoken: string; reconnected: boolean }[] = [];
    const watch = presence.watch({ channels: ['lobby'], channelGroups: ['staff'], onConnect: (info) => connects.push(info) });
    const first = watch.next();
    await vi_waitFor(() => service.cursors.length >= 2);
    const t1 = service.publish('lobby', join('kim', 2));
    const t2 = service.publish('desk', join('lee', 1), 'staff');
    expect((await first).value).toEqual({ type: 'join', channel: 'lobby', userId: 'kim', occupancy: 2, timestamp: 1757969434794, timetoken: t1 });
    expect((await watch.next()).value).toEqual({ type: 'join', channel: 'desk', userId: 'lee', occupancy: 1, timestamp: 1757969434794, timetoken: t2, group: 'staff' });
    await watch.return();
    expect(connects).toEqual([{ timetoken: service.cursors[1], reconnected: false }]);
    const [handshake, poll] = service.transport.requests;
    expect(handshake!.target).toMatch(/^\/v2\/subscribe\/demo\/lobby-pnpres\/0\?ee=&channel-group=staff-pnpres&uuid=watcher&/);
    expect(poll!.target).toMatch(/^\/v2\/subscribe\/demo\/lobby-pnpres\/0\?ee=&channel-group=staff-pnpres&tt=\d+&tr=7&uuid=watcher&/);
  });

  test('a participant subscribes to the channels too, with heartbeat, and state on the handshake only', async () => {
    const service = createFakeSubscribeService();
    const { presence } = client(service);
    const watch = presence.watch({ channels: ['lobby'], channelGroups: ['staff'], participant: true, heartbeat: 60, state: { lobby: { mood: 'ok' } } });
    const pending = watch.next();
    await vi_waitFor(() => service.cursors.length >= 2);
    await watch.return();
    await pending;
    const [handshake, poll] = service.transport.requests.map((r) => r.target);
    expect(handshake).toMatch(/^\/v2\/subscribe\/demo\/lobby,lobby-pnpres\/0\?ee=&channel-group=staff%2Cstaff-pnpres&heartbeat=60&state=%7B%22lobby%22%3A%7B%22mood%22%3A%22ok%22%7D%7D&uuid=watcher&/);
    expect(poll).toMatch(/^\/v2\/subscribe\/demo\/lobby,lobby-pnpres\/0\?ee=&channel-group=staff%2Cstaff-pnpres&heartbeat=60&tt=\d+&tr=7&uuid=watcher&/);
  });

  test('a participant that connected announces its leave when it ends (unless leaveOnEnd: false); an observer never does', async () => {
    const leavesAfter = async (options: Record<string, unknown>) => {
      const service = createFakeSubscribeService();
      const { presence } = client(service);
      const watch = presence.watch({ channels: ['lobby'], channelGroups: ['staff'], ...options });
      const pending = watch.next();
      await vi_waitFor(() => service.cursors.length >= 2);
      await watch.return(); // awaits the leave
      await pending;
      return service.transport.requests.filter((r) => r.operation === 'leave').map((r) => r.target.split('?')[0] + '?' + r.query.filter(([k]) => k === 'channel-group').map(([k, v]) => `${k}=${v}`).join('&'));
    };
    expect(await leavesAfter({ participant: true })).toEqual(['/v2/presence/sub-key/demo/channel/lobby/leave?channel-group=staff']);
    expect(await leavesAfter({ participant: true, leaveOnEnd: false })).toEqual([]);
    expect(await leavesAfter({})).toEqual([]);
  });

  test('every fault mid-long-poll reconnects and resumes: the consumer sees exactly what was published, in order', async () => {
    const service = createFakeSubscribeService({ batch: 3 });
    const { presence, reconnects } = client(service);
    const connects: boolean[] = [];
    const watch = presence.watch({ channels: ['lobby'], timeoutMs: 200, reconnect: fast, onConnect: (info) => connects.push(info.reconnected) });
    const first = watch.next();
    await vi_waitFor(() => service.cursors.length >= 1);
    // Each fault loses a response that would have carried events.
    service.failNextPolls('reset', '500', '429', 'garbage', 'hang');
    for (let i = 0; i < 20; i++) service.publish('lobby', join(`u${i}`, i + 1));
    const seen = [(await first).value!, ...(await collect(watch, 19))];
    expect(seen.map((e) => e.timetoken)).toEqual(service.published.map((e) => (e.p as { t: string }).t));
    expect(seen.map((e) => (e as { userId: string }).userId)).toEqual(Array.from({ length: 20 }, (_, i) => `u${i}`));
    expect(reconnects.map((r) => r.reason)).toEqual(['network_error', 'server_error', 'rate_limited', 'protocol_error', 'timeout']);
    expect(reconnects.every((r) => r.attempt >= 1 && r.delayMs >= 0 && r.delayMs <= fast.maxDelayMs)).toBe(true);
    expect(connects).toEqual([false, true, true, true, true, true]);
    // After each failure: a handshake, then a poll from the cursor that failed.
    const afterFailure = service.cursors.flatMap((tt, i) => (tt === undefined && i > 0 ? [service.cursors[i - 1], service.cursors[i + 1]] : []));
    for (let i = 0; i < afterFailure.length; i += 2) expect(afterFailure[i + 1]).toBe(afterFailure[i]);
  });

  test('a service that replays events already read (after a reconnect) does not make them repeat', async () => {
    const transport = createMemoryTransport();
    const env = (t: string, uuid: string, channel = 'lobby') => ({ a: '4', f: 0, p: { t, r: 1 }, k: 'demo', c: `${channel}-pnpres`, d: { action: 'join', uuid, occupancy: 1, timestamp: 1 }, b: `${channel}-pnpres` });
    transport.enqueue(
      { body: { t: { t: '10', r: 1 }, m: [] } },
      { body: { t: { t: '12', r: 1 }, m: [env('11', 'a'), env('12', 'b')] } },
      { status: 500, body: { status: 500, error: 1, message: 'x', service: 'Presence' } },
      { body: { t: { t: '13', r: 1 }, m: [] } }, // the reconnect's handshake
      { body: { t: { t: '14', r: 1 }, m: [env('12', 'b'), env('9', 'old', 'hall'), env('13', 'c'), env('14', 'd')] } },
      { delayMs: 60_000, body: {} },
    );
    const presence = createPresence({ subscribeKey: 'demo', userId: 'w', transport });
    const seen = await collect(presence.watch({ channels: ['lobby', 'hall'], reconnect: fast }), 5);
    expect(seen.map((e) => (e as { userId: string }).userId)).toEqual(['a', 'b', 'old', 'c', 'd']);
  });

  test('property: whatever faults hit the long-polls, and however events are batched, the consumer sees exactly what was published', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<'reset' | '500' | '429' | 'garbage' | 'hang'>('reset', '500', '429', 'garbage', 'hang'), { maxLength: 6 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 7 }),
        async (faults, count, batch) => {
          const service = createFakeSubscribeService({ batch, hangMs: 60_000 });
          const presence = createPresence({ subscribeKey: 'demo', userId: 'w', transport: service.transport });
          const watch = presence.watch({ channels: ['a', 'b'], timeoutMs: 50, reconnect: { baseDelayMs: 1, maxDelayMs: 2 } });
          const first = watch.next();
          await vi_waitFor(() => service.cursors.length >= 1);
          service.failNextPolls(...faults);
          for (let i = 0; i < count; i++) service.publish(i % 3 ? 'a' : 'b', join(`u${i}`, i + 1));
          const seen = [(await first).value!, ...(count > 1 ? await collect(watch, count - 1) : [])];
          await watch.return();
          expect(seen.map((e) => e.timetoken)).toEqual(service.published.map((e) => (e.p as { t: string }).t));
        },
      ),
      { numRuns: 30 },
    );
  });

  test('consecutive failures back off further (attempt counts up) and reset after a success', async () => {
    const service = createFakeSubscribeService();
    const { presence, reconnects } = client(service);
    service.failNextHandshakes('reset', 'reset', 'reset');
    service.publish('lobby', join('kim', 1));
    const watch = presence.watch({ channels: ['lobby'], timetoken: '1', reconnect: fast });
    await collect(watch, 1);
    expect(reconnects.map((r) => r.attempt)).toEqual([1, 2, 3]);
  });

  test.each(['400', '403'] as const)('a %s ends the iteration with the typed error and nothing more is sent', async (fault) => {
    const service = createFakeSubscribeService();
    const { presence, reconnects } = client(service);
    service.failNextPolls(fault);
    const watch = presence.watch({ channels: ['lobby'], reconnect: fast });
    const error = await watch.next().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PresenceApiError);
    expect((error as PresenceApiError).status).toBe(Number(fault));
    expect((error as PresenceApiError).operation).toBe('subscribe');
    expect(reconnects).toEqual([]);
    const sent = service.transport.requests.length;
    expect(await watch.next()).toEqual({ done: true, value: undefined });
    expect(service.transport.requests.length).toBe(sent);
  });

  test('an empty retry budget ends the watch with the last error instead of reconnecting', async () => {
    const service = createFakeSubscribeService();
    const budget: ReconnectBudget & { asked: boolean[] } = { tokens: 0, asked: [], acquire(timeout) { this.asked.push(timeout); return false; }, refund: () => false };
    const { presence, reconnects } = client(service, { plugins: [{ name: 'budget', apply: (stack) => void (stack.retryBudget = budget) }] });
    service.failNextPolls('500');
    const watch = presence.watch({ channels: ['lobby'], reconnect: fast });
    await expect(watch.next()).rejects.toBeInstanceOf(PresenceApiError);
    expect(budget.asked).toEqual([false]);
    expect(reconnects).toEqual([]);
  });

  test('break during a held long-poll settles at once and leaves no timer behind', async () => {
    const transport = createMemoryTransport({
      respond: (r): ScriptedResponse => (r.query.some(([k]) => k === 'tt') ? { delayMs: 120_000, body: {} } : { body: { t: { t: '5', r: 1 }, m: [] } }),
    });
    const presence = createPresence({ subscribeKey: 'demo', userId: 'watcher', transport });
    const before = timers();
    const watch = presence.watch({ channels: ['lobby'] });
    const pending = watch.next();
    await vi_waitFor(() => transport.requests.length === 2);
    await watch.return();
    expect(await pending).toEqual({ done: true, value: undefined });
    await new Promise((resolve) => setImmediate(resolve));
    // The held poll's deadline and its delay are gone (at most as many as before: another may have ended meanwhile).
    expect(timers()).toBeLessThanOrEqual(before);
    expect(transport.requests).toHaveLength(2);
  });

  test('a participant given heartbeat heartbeats every heartbeat/2 − 1 s (at least 0.5 s) while its long-poll is held, and ending the watch stops it', async () => {
    const transport = createMemoryTransport({
      respond: (r): ScriptedResponse => {
        if (r.operation === 'heartbeat' || r.operation === 'leave') return { body: { status: 200, message: 'OK', service: 'Presence' } };
        return r.query.some(([k]) => k === 'tt') ? { delayMs: 120_000, body: {} } : { body: { t: { t: '5', r: 1 }, m: [] } };
      },
    });
    const presence = createPresence({ subscribeKey: 'demo', userId: 'svc', transport });
    const watch = presence.watch({ channels: ['lobby'], channelGroups: ['staff'], participant: true, heartbeat: 3 });
    const pending = watch.next();
    const beats = () => transport.requests.filter((r) => r.operation === 'heartbeat');
    await vi_waitFor(() => beats().length >= 2);
    expect(beats()[0]!.target).toMatch(/^\/v2\/presence\/sub-key\/demo\/channel\/lobby\/heartbeat\?heartbeat=3&channel-group=staff&uuid=svc&/);
    await watch.return();
    expect(await pending).toEqual({ done: true, value: undefined });
    const sent = beats().length;
    await new Promise((resolve) => setTimeout(resolve, 1200)); // more than two heartbeat periods
    expect(beats()).toHaveLength(sent);
  });

  test('the signal ends the iteration quietly and at once, even while next() waits', async () => {
    const service = createFakeSubscribeService({ holdMs: 120_000 });
    const { presence } = client(service);
    const before = timers();
    const controller = new AbortController();
    const watch = presence.watch({ channels: ['lobby'], signal: controller.signal });
    const pending = watch.next();
    await vi_waitFor(() => service.cursors.length === 2);
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    await new Promise((resolve) => setImmediate(resolve));
    // The held poll's deadline and its delay are gone (at most as many as before: another may have ended meanwhile).
    expect(timers()).toBeLessThanOrEqual(before);
    // An already aborted signal sends nothing.
    const none = presence.watch({ channels: ['lobby'], signal: AbortSignal.abort() });
    expect(await none.next()).toEqual({ done: true, value: undefined });
    expect(service.cursors).toHaveLength(2);
  });

  test('closing the client ends its watches quietly; a closed client refuses a new watch', async () => {
    const service = createFakeSubscribeService({ holdMs: 60_000 });
    const { presence } = client(service);
    const watch = presence.watch({ channels: ['lobby'] });
    const pending = watch.next();
    await vi_waitFor(() => service.cursors.length === 2);
    await presence.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(() => presence.watch({ channels: ['lobby'] })).toThrow(/closed/);
  });

  test('resuming from a timetoken reads from it, in the handshake region', async () => {
    const service = createFakeSubscribeService();
    const { presence } = client(service);
    const t1 = service.publish('lobby', join('kim', 1));
    const t2 = service.publish('lobby', join('lee', 2));
    const connects: { timetoken: string; reconnected: boolean }[] = [];
    const seen = await collect(presence.watch({ channels: ['lobby'], timetoken: t1, onConnect: (i) => connects.push(i) }), 1);
    expect(seen.map((e) => e.timetoken)).toEqual([t2]);
    expect(connects).toEqual([{ timetoken: t1, reconnected: false }]);
    expect(service.transport.requests[1]!.target).toContain(`tt=${t1}&tr=7&`);
  });

  test('every event type, with state decoded by the serializer, and a watchEvent for each', async () => {
    const service = createFakeSubscribeService();
    const { presence, delivered } = client(service);
    service.publish('lobby', { action: 'leave', uuid: 'a', occupancy: 0, timestamp: 1700000000 });
    service.publish('lobby', { action: 'timeout', uuid: 'b', occupancy: 0, timestamp: 1700000001 });
    service.publish('lobby', { action: 'state-change', uuid: 'c', occupancy: 1, timestamp: 1700000002, data: { mood: 'ok' } });
    service.publish('lobby', { action: 'interval', occupancy: 30, timestamp: 1700000003, join: ['d'], leave: ['e'], timeout: ['f'] });
    service.publish('lobby', { action: 'interval', occupancy: 31, timestamp: 1700000004, here_now_refresh: true });
    const seen = await collect(presence.watch({ channels: ['lobby'], timetoken: '1' }), 5);
    const [leave, timeout, stateChange, interval, refresh] = seen;
    expect(leave).toMatchObject({ type: 'leave', userId: 'a', occupancy: 0, timestamp: 1700000000000 });
    expect(timeout).toMatchObject({ type: 'timeout', userId: 'b' });
    expect(stateChange).toMatchObject({ type: 'stateChange', userId: 'c', state: { mood: 'ok' } });
    expect(interval).toEqual({ type: 'interval', channel: 'lobby', occupancy: 30, timestamp: 1700000003000, timetoken: interval!.timetoken, joined: ['d'], left: ['e'], timedOut: ['f'], hereNowRefresh: false });
    expect(refresh).toMatchObject({ type: 'interval', joined: [], left: [], timedOut: [], hereNowRefresh: true });
    expect(delivered.map((e) => e.type)).toEqual(['leave', 'timeout', 'stateChange', 'interval', 'interval']);
    expect(delivered.every((e) => e.lagMs > 0)).toBe(true);
  });

  describe('a state the serializer refuses follows invalidState', () => {
    const picky: StateSerializer<{ mood: string }> = {
      id: 'picky',
      encode: (s) => JSON.stringify(s),
      decode(value) {
        if (typeof value !== 'object' || value === null || typeof (value as { mood?: unknown }).mood !== 'string') throw new PresenceSerializationError('mood must be a string');
        return value as { mood: string };
      },
    };
    const publishBoth = (service: FakeSubscribeService) => {
      service.publish('lobby', { action: 'state-change', uuid: 'c', occupancy: 1, timestamp: 1, data: { mood: 5 } });
      service.publish('lobby', join('d', 2));
    };

    test("'omit' leaves the stateChange out and emits stateDropped", async () => {
      const service = createFakeSubscribeService();
      const presence = createPresence({ subscribeKey: 'demo', userId: 'w', transport: service.transport, serializer: picky, invalidState: 'omit' });
      const dropped: PresenceEventMap['stateDropped'][] = [];
      presence.events.on('stateDropped', (e) => dropped.push(e));
      publishBoth(service);
      const seen = await collect(presence.watch({ channels: ['lobby'], timetoken: '1' }), 1);
      expect(seen.map((e) => e.type)).toEqual(['join']);
      expect(dropped).toMatchObject([{ operation: 'subscribe', channel: 'lobby', userId: 'c' }]);
    });

    test("'throw' ends the watch with the serialization error", async () => {
      const service = createFakeSubscribeService();
      const presence = createPresence({ subscribeKey: 'demo', userId: 'w', transport: service.transport, serializer: picky });
      publishBoth(service);
      await expect(presence.watch({ channels: ['lobby'], timetoken: '1' }).next()).rejects.toBeInstanceOf(PresenceSerializationError);
    });
  });

  test('bad options throw at once, naming the field, and nothing is sent', () => {
    const service = createFakeSubscribeService();
    const { presence } = client(service);
    const bad: Array<[unknown, string]> = [
      [{}, 'channels'],
      [{ channels: ['lobby-pnpres'] }, 'channels[0]'],
      [{ channels: ['a b'] }, 'channels[0]'],
      [{ channels: ['lobby'], heartbeat: 60 }, 'heartbeat'],
      [{ channels: ['lobby'], participant: true, heartbeat: 0 }, 'heartbeat'],
      [{ channels: ['lobby'], participant: true, state: { other: { a: 1 } } }, 'state.other'],
      [{ channels: ['lobby'], timetoken: 'yesterday' }, 'timetoken'],
      [{ channels: ['lobby'], onConnect: 'no' }, 'onConnect'],
      [{ channels: ['lobby'], signal: {} }, 'signal'],
      [{ channels: ['lobby'], timeoutMs: -1 }, 'timeoutMs'],
      [{ channels: ['lobby'], participant: 'yes' }, 'participant'],
      [{ channels: ['lobby'], participant: true, leaveOnEnd: 1 }, 'leaveOnEnd'],
      [{ channel: 'lobby' }, 'channel'],
      [{ channels: ['lobby'], channelGroup: 'staff' }, 'channelGroup'],
    ];
    for (const [options, field] of bad) {
      let error: unknown;
      try {
        presence.watch(options as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(PresenceValidationError);
      expect((error as PresenceValidationError).field).toBe(field);
    }
    expect(service.transport.requests).toHaveLength(0);
  });
});

async function vi_waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
