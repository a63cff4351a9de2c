// Events per second delivered through presence.watch() and through the official `pubnub` SDK's
// presence listener, on the same emulator (in its own process) in the same run. Each round publishes
// a burst of presence events on a channel only one of the two watches and times until the last one
// is delivered, and how much CPU this process spent per event; the two take turns, round by round,
// so neither runs while the other is measured. Every round is printed; the summary gives medians,
// spreads and the ratios.
//
//   pnpm --filter @presence/transport-http bench:watch      (BENCH_ROUNDS, BENCH_EVENTS to change the size)
import { availableParallelism, cpus, loadavg } from 'node:os';
import { createPresence } from '@presence/core';
import { httpTransport } from '../src/index.js';
import { startWatchRace, type RaceRound as Round } from './watch-race.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const race = await startWatchRace({
  events: EVENTS,
  client: (origin) => createPresence({ subscribeKey: 'bench', userId: 'bench-watch', transport: httpTransport({ origin }) }),
});
const round = (who: 'watch' | 'sdk'): Promise<Round> => race.round(who);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

console.log(`watch() vs pubnub SDK listener: ${EVENTS} presence events per round, ${ROUNDS} rounds (+1 warm-up), emulator in its own process`);
console.log(`Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
await round('watch');
await round('sdk');
const rounds = { watch: [] as Round[], sdk: [] as Round[] };
for (let r = 1; r <= ROUNDS; r++) {
  // Alternate who goes first, so neither always runs on a warmer process.
  const order: Array<'watch' | 'sdk'> = r % 2 ? ['watch', 'sdk'] : ['sdk', 'watch'];
  for (const who of order) rounds[who].push(await round(who));
  const w = rounds.watch.at(-1)!;
  const k = rounds.sdk.at(-1)!;
  console.log(
    `round ${r}: watch() ${fmt(w.eventsPerSecond)} events/s, ${w.cpuMicrosPerEvent.toFixed(1)} µs CPU/event   ` +
      `SDK listener ${fmt(k.eventsPerSecond)} events/s, ${k.cpuMicrosPerEvent.toFixed(1)} µs CPU/event   ` +
      `ratio ${(w.eventsPerSecond / k.eventsPerSecond).toFixed(2)} (CPU ${(w.cpuMicrosPerEvent / k.cpuMicrosPerEvent).toFixed(2)})`,
  );
}
const spread = (xs: number[], digits = 0): string => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
const rate = (who: 'watch' | 'sdk') => rounds[who].map((r) => r.eventsPerSecond);
const cost = (who: 'watch' | 'sdk') => rounds[who].map((r) => r.cpuMicrosPerEvent);
console.log(`median events/s: watch() ${fmt(median(rate('watch')))} (spread ${spread(rate('watch'))}), SDK listener ${fmt(median(rate('sdk')))} (spread ${spread(rate('sdk'))})`);
console.log(`median CPU µs/event: watch() ${median(cost('watch')).toFixed(1)} (spread ${spread(cost('watch'), 1)}), SDK listener ${median(cost('sdk')).toFixed(1)} (spread ${spread(cost('sdk'), 1)})`);
const ratios = rate('watch').map((w, i) => w / rate('sdk')[i]!);
const cpuRatios = cost('watch').map((w, i) => w / cost('sdk')[i]!);
console.log(`ratio watch()/SDK events/s: median of rounds ${median(ratios).toFixed(2)} (spread ${spread(ratios, 2)}); CPU per event: ${median(cpuRatios).toFixed(2)} (spread ${spread(cpuRatios, 2)})`);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

await race.close();
