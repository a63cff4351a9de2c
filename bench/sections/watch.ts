// presence.watch() against the official pubnub SDK's presence listener, on one emulator (in its own
// process): each round publishes a burst of join events on a channel only one of the two watches,
// and times until the last one is delivered, with the CPU this process spent per event. The two
// take turns, the order alternating round by round. The race itself is transport-http's watch
// benchmark's (`packages/transport-http/bench/watch-race.ts`), run here on the built packages.
import { createPresence } from '@presence/core';
import { httpTransport } from '@presence/transport-http';
import { startWatchRace, type RaceRound, type Side } from '../../packages/transport-http/bench/watch-race.js';
import { ROUNDS, report } from '../lib/section.js';
import { pairedRow } from '../lib/stats.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const section = `watch() events (${EVENTS.toLocaleString('en-US')} joins a round, one long-poll each)`;
const race = await startWatchRace({
  events: EVENTS,
  execArgv: ['--import', 'tsx'],
  client: (origin) => createPresence({ subscribeKey: 'bench', userId: 'bench-watch', transport: httpTransport({ origin }) }),
});

await race.round('watch'); // warm-up
await race.round('sdk');
const rounds: Record<Side, RaceRound[]> = { watch: [], sdk: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const side of (r % 2 ? ['sdk', 'watch'] : ['watch', 'sdk']) as Side[]) rounds[side].push(await race.round(side));
}
await race.close();

const rate = (side: Side) => rounds[side].map((r) => r.eventsPerSecond);
const cpu = (side: Side) => rounds[side].map((r) => r.cpuMicrosPerEvent);
report([
  pairedRow({ section, name: 'watch() / official pubnub SDK presence listener, events delivered per second', unit: 'events/s', ours: rate('watch'), baseline: rate('sdk') }),
  pairedRow({ section, name: 'watch() / official pubnub SDK presence listener, CPU time per event', unit: 'µs CPU/event', ours: cpu('watch'), baseline: cpu('sdk'), ratios: cpu('sdk').map((value, i) => value / cpu('watch')[i]!), note: 'ratio = baseline µs / watch() µs' }),
]);
