import type { LiveEvents } from '../../src/live-events.js';

/**
 * A live feed with no rooms, for tests and benchmarks of the JSON API and /metrics: it is ready at
 * once, its snapshot is empty and its event stream answers with that snapshot and ends.
 */
export function staticLiveEvents(): LiveEvents {
  const snapshot = { id: 'static-0', rooms: [] };
  return {
    ready: Promise.resolve(),
    isReady: () => true,
    snapshot: () => snapshot,
    serve(_req, res) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.end(`id: ${snapshot.id}\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
    },
    clients: 0,
    close: () => Promise.resolve(),
  };
}
