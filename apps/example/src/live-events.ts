import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveRoster, Occupant, RosterChange } from './live-roster.js';

/** A room as the page shows it. */
export interface RoomView {
  readonly room: string;
  readonly occupancy: number;
  readonly occupants: readonly Occupant[];
}

/** The whole roster at one event id: what the page renders and what a (re)connecting stream starts from. */
export interface LiveSnapshot {
  readonly id: string;
  readonly rooms: readonly RoomView[];
}

/** A change as the page receives it: who joined (with state), left, timed out, or changed state. */
export interface RoomEvent {
  readonly room: string;
  readonly joined: readonly Occupant[];
  readonly left: readonly string[];
  readonly timedOut: readonly string[];
  readonly updated: readonly Occupant[];
  readonly occupancy: number;
}

export interface LiveEventsOptions {
  /** Events kept for reconnecting clients (`Last-Event-ID`); an older id gets a fresh snapshot. */
  readonly replayEvents?: number;
  /** How often an idle stream carries a `ping` event, so proxies keep it open and the page notices a dead one. */
  readonly pingMs?: number;
  /** The reconnect delay the stream asks the browser for. */
  readonly retryMs?: number;
  /** A stream whose client reads slower than this many buffered bytes is dropped (it reconnects and resumes). */
  readonly maxBufferedBytes?: number;
  readonly onError?: (error: unknown) => void;
}

export interface LiveEvents {
  /** Settles once the roster is seeded and the view is live. */
  readonly ready: Promise<void>;
  isReady(): boolean;
  /** The current view, or undefined before the roster is seeded. */
  snapshot(): LiveSnapshot | undefined;
  /** Serves `GET /events`: a text/event-stream from the client's last event id (or `?since=`). */
  serve(req: IncomingMessage, res: ServerResponse, since: string | undefined): void;
  /** Streams currently open. */
  readonly clients: number;
  /** Ends every stream and stops following the roster. */
  close(): Promise<void>;
}

interface Buffered {
  readonly seq: number;
  readonly frame: string;
}

/**
 * The page's live feed: follows the roster's `changes()` once, keeps its own view of every room and
 * the last events, and fans them out to every `GET /events` stream (Server-Sent Events). Event ids
 * are `<epoch>-<seq>`: the epoch is new for every process, so an id from another replica or an
 * earlier run, or one older than the replay window, gets a fresh snapshot instead of a wrong replay.
 */
export function createLiveEvents(roster: LiveRoster, rooms: readonly string[], options: LiveEventsOptions = {}): LiveEvents {
  const replayEvents = options.replayEvents ?? 500;
  const pingMs = options.pingMs ?? 15_000;
  const retryMs = options.retryMs ?? 2000;
  const maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
  const epoch = randomBytes(4).toString('hex');
  const view = new Map<string, { occupancy: number; occupants: Map<string, Occupant> }>();
  const recent: Buffered[] = [];
  const clients = new Set<ServerResponse>();
  const waiting = new Set<ServerResponse>();
  let seq = 0;
  let live = false;
  let closed = false;
  const stopFollowing = new AbortController();

  const id = (): string => `${epoch}-${seq}`;

  const snapshot = (): LiveSnapshot | undefined => {
    if (!live) return undefined;
    return {
      id: id(),
      rooms: rooms.map((room) => {
        const entry = view.get(room);
        const occupants = entry ? [...entry.occupants.values()].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0)) : [];
        return { room, occupancy: entry?.occupancy ?? 0, occupants };
      }),
    };
  };

  const frame = (event: string, data: unknown, eventId?: string): string =>
    `event: ${event}\n${eventId === undefined ? '' : `id: ${eventId}\n`}data: ${JSON.stringify(data)}\n\n`;

  const write = (res: ServerResponse, text: string): void => {
    if (res.writableEnded || res.destroyed) return;
    res.write(text);
    // A client that cannot keep up is dropped rather than buffered without bound; it resumes on reconnect.
    if (res.writableLength > maxBufferedBytes) res.destroy();
  };

  const apply = (change: RosterChange): RoomEvent | undefined => {
    if (!rooms.includes(change.channel)) return undefined;
    let entry = view.get(change.channel);
    if (!entry) view.set(change.channel, (entry = { occupancy: 0, occupants: new Map() }));
    const withState = (userId: string): Occupant => (Object.hasOwn(change.states, userId) ? { userId, state: change.states[userId]! } : { userId });
    const joined = change.joined.map(withState);
    const updated = change.updated.map(withState);
    // Applying is idempotent (a join of someone present, a leave of someone absent change nothing),
    // so a change already reflected in the seed view does no harm.
    for (const occupant of [...joined, ...updated]) entry.occupants.set(occupant.userId, occupant);
    for (const userId of [...change.left, ...change.timedOut]) entry.occupants.delete(userId);
    entry.occupancy = change.occupancy;
    return { room: change.channel, joined, left: change.left, timedOut: change.timedOut, updated, occupancy: change.occupancy };
  };

  const publish = (event: RoomEvent): void => {
    seq++;
    const text = frame('change', event, id());
    recent.push({ seq, frame: text });
    if (recent.length > replayEvents) recent.shift();
    for (const res of clients) write(res, text);
  };

  const sendStart = (res: ServerResponse, since: string | undefined): void => {
    const [sinceEpoch, sinceSeqText] = since?.split('-') ?? [];
    const sinceSeq = Number(sinceSeqText);
    const oldest = recent[0]?.seq ?? seq + 1;
    const canReplay = sinceEpoch === epoch && Number.isInteger(sinceSeq) && sinceSeq <= seq && sinceSeq >= oldest - 1;
    if (canReplay) {
      for (const event of recent) if (event.seq > sinceSeq) write(res, event.frame);
    } else {
      const current = snapshot()!;
      write(res, frame('snapshot', { rooms: current.rooms }, current.id));
    }
    clients.add(res);
  };

  /** Loads the view from a roster snapshot; later diffs at or below its version are already in it. */
  const load = (seed: ReturnType<LiveRoster['snapshot']>): void => {
    for (const room of rooms) {
      const occupants = seed.channels[room] ?? [];
      view.set(room, { occupancy: occupants.length, occupants: new Map(occupants.map((o) => [o.userId, o])) });
    }
  };

  /** A fresh snapshot for every open stream, after the view was reloaded (the roster ended our reader). */
  const publishSnapshot = (): void => {
    seq++;
    const text = frame('snapshot', { rooms: snapshot()!.rooms }, id());
    recent.push({ seq, frame: text });
    if (recent.length > replayEvents) recent.shift();
    for (const res of clients) write(res, text);
  };

  const follow = async (): Promise<void> => {
    await roster.ready;
    while (!closed) {
      // changes() and snapshot() in the same tick: the snapshot plus the diffs after it miss nothing.
      const changes = roster.changes({ signal: stopFollowing.signal });
      const seed = roster.snapshot();
      load(seed);
      if (!live) {
        live = true;
        markReady();
        for (const res of waiting) sendStart(res, undefined);
        waiting.clear();
      } else {
        publishSnapshot();
      }
      try {
        for await (const change of changes) {
          if (change.version <= seed.version) continue;
          const event = apply(change);
          if (event) publish(event);
        }
        return; // the roster closed
      } catch (error) {
        // The reader fell behind (or the roster failed): say so, then start again from a fresh snapshot.
        if (closed) return;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
  };

  let markReady!: () => void;
  let failReady!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  ready.catch(() => {}); // a failed seed is reported through onError and /readyz, not as an unhandled rejection
  follow().catch((error: unknown) => {
    failReady(error);
    if (!closed) options.onError?.(error);
  });

  const ping = setInterval(() => {
    for (const res of [...clients, ...waiting]) write(res, 'event: ping\ndata: {}\n\n');
  }, pingMs);
  ping.unref();

  return {
    ready,
    isReady: () => live && !closed,
    snapshot,
    get clients() {
      return clients.size + waiting.size;
    },
    serve(req, res, since) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        // The stream is the connection's last response: when it ends (on shutdown), the socket closes.
        connection: 'close',
      });
      if (req.method === 'HEAD' || closed) {
        res.end();
        return;
      }
      res.write(`retry: ${retryMs}\n\n`);
      const forget = (): void => {
        clients.delete(res);
        waiting.delete(res);
      };
      res.once('close', forget);
      if (live) sendStart(res, since);
      else waiting.add(res);
    },
    // eslint-disable-next-line @typescript-eslint/require-await -- async by contract: callers await every close()
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(ping);
      for (const res of [...clients, ...waiting]) res.end();
      clients.clear();
      waiting.clear();
      stopFollowing.abort();
    },
  };
}
