import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';

interface SseEvent {
  event: string;
  id: string | undefined;
  data: any;
}

/** Reads a text/event-stream response as events (the parts of the format the service uses). */
function readEvents(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let retry: number | undefined;
  const next = async (timeoutMs = 15_000): Promise<SseEvent> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
        if (fields.retry) retry = Number(fields.retry);
        if (!fields.event) continue;
        return { event: fields.event, id: fields.id, data: JSON.parse(fields.data ?? 'null') };
      }
      if (Date.now() > until) throw new Error(`no event within ${timeoutMs} ms`);
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      buffer += value;
    }
  };
  /** The next event that is not a ping. */
  const nextData = async (): Promise<SseEvent> => {
    for (;;) {
      const event = await next();
      if (event.event !== 'ping') return event;
    }
  };
  const ended = async (): Promise<boolean> => {
    for (;;) if ((await reader.read()).done) return true;
  };
  return { next, nextData, ended, retry: () => retry, cancel: () => reader.cancel() };
}

describe('GET /events', () => {
  let app: App;
  let base: string;
  const heartbeat = (user: string, room: string) => fetch(`${base}/users/${user}/rooms/${room}/heartbeat?heartbeat=300`, { method: 'POST' }).then((r) => r.text());

  beforeAll(async () => {
    app = await startApp(loadConfig({ PORT: '0', SIMULATE: '0' }), { eventPingMs: 300 });
    base = app.replicas[0]!.url;
    await app.replicas[0]!.live.ready;
  });
  afterAll(() => app.close());

  test('starts with a snapshot of every room, then sends each change with the next id', async () => {
    const response = await fetch(`${base}/events`);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toMatch(/no-cache/);
    const events = readEvents(response);
    const snapshot = await events.nextData();
    expect(events.retry()).toBeGreaterThan(0);
    expect(snapshot.event).toBe('snapshot');
    expect(snapshot.data.rooms.map((r: { room: string }) => r.room)).toEqual(['lobby', 'engineering', 'random']);
    const [epoch, seq] = snapshot.id!.split('-');

    await heartbeat('ada', 'lobby');
    const change = await events.nextData();
    expect(change).toMatchObject({ event: 'change', id: `${epoch}-${Number(seq) + 1}`, data: { room: 'lobby', joined: [{ userId: 'ada' }], left: [], timedOut: [], updated: [], occupancy: expect.any(Number) } });
    await events.cancel();
  });

  test('idle streams carry ping events', async () => {
    const events = readEvents(await fetch(`${base}/events`));
    await events.nextData();
    expect((await events.next()).event).toBe('ping');
    await events.cancel();
  });

  test('Last-Event-ID resumes with exactly the missed changes; ?since= does the same for a first connection', async () => {
    const first = readEvents(await fetch(`${base}/events`));
    const { id: lastSeen } = await first.nextData();
    await first.cancel();

    await heartbeat('grace', 'engineering');
    await heartbeat('linus', 'random');
    // Wait until the service has both changes, through another stream.
    const watcher = readEvents(await fetch(`${base}/events?since=${lastSeen}`));
    const viaSince = [await watcher.nextData(), await watcher.nextData()];
    await watcher.cancel();
    expect(viaSince.map((e) => [e.event, e.data.room])).toEqual([['change', 'engineering'], ['change', 'random']]);

    const resumed = readEvents(await fetch(`${base}/events`, { headers: { 'last-event-id': lastSeen! } }));
    const replayed = [await resumed.nextData(), await resumed.nextData()];
    expect(replayed.map((e) => [e.event, e.data.room, e.data.joined[0]?.userId])).toEqual([
      ['change', 'engineering', 'grace'],
      ['change', 'random', 'linus'],
    ]);
    expect(replayed.map((e) => e.id)).toEqual(viaSince.map((e) => e.id));
    await resumed.cancel();
  });

  test.each([['an id from another process', 'feedbeef-3'], ['an id from the future', 'x-99999'], ['garbage', 'not an id']])(
    '%s gets a fresh snapshot',
    async (_name, id) => {
      const events = readEvents(await fetch(`${base}/events`, { headers: { 'last-event-id': id } }));
      expect((await events.nextData()).event).toBe('snapshot');
      await events.cancel();
    },
  );

  test('closing the service ends open streams at once', async () => {
    const own = await startApp(loadConfig({ PORT: '0', SIMULATE: '0' }));
    const events = readEvents(await fetch(`${own.replicas[0]!.url}/events`));
    await events.nextData();
    expect(own.replicas[0]!.live.clients).toBe(1);
    const closed = own.close();
    expect(await events.ended()).toBe(true);
    await closed;
    expect(own.replicas[0]!.live.clients).toBe(0);
  });
});
