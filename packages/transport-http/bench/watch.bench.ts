// Events per second delivered through presence.watch() and through the official `pubnub` SDK's
// presence listener, on the same emulator (in its own process) in the same run. Each round publishes
// a burst of presence events on a channel only one of the two watches and times until the last one
// is delivered, and how much CPU this process spent per event; the two take turns, round by round,
// so neither runs while the other is measured. Every round is printed; the summary gives medians,
// spreads and the ratios.
//
//   pnpm --filter @presence/transport-http bench:watch      (BENCH_ROUNDS, BENCH_EVENTS to change the size)
import { fork } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createPresence } from '@presence/core';
import PubNub from 'pubnub';
import { httpTransport } from '../src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const SUB = 'bench';

const child = fork(fileURLToPath(new URL('./watch-emulator-process.ts', import.meta.url)), {
  env: { ...process.env, BENCH_EVENTS: String(EVENTS) },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const emulator = await new Promise<{ origin: string; port: number }>((resolve, reject) => {
  child.once('message', (message) => resolve(message as { origin: string; port: number }));
  child.once('exit', (code) => reject(new Error(`the emulator process exited (${code}) before it started`)));
});
const transport = httpTransport({ origin: emulator.origin });
const presence = createPresence({ subscribeKey: SUB, userId: 'bench-watch', transport });
const sdk = new PubNub({ origin: `127.0.0.1:${emulator.port}`, ssl: false, subscribeKey: SUB, userId: 'bench-sdk', logVerbosity: false });

// Counters each consumer bumps; a round waits for its consumer's count to reach the target.
const received = { watch: 0, sdk: 0 };
let wake: (() => void) | undefined;
const bump = (who: 'watch' | 'sdk'): void => {
  received[who]++;
  wake?.();
};

let connected!: () => void;
const watchReady = new Promise<void>((resolve) => (connected = resolve));
const watch = presence.watch({ channels: ['room-watch'], onConnect: () => connected() });
const consuming = (async () => {
  for await (const event of watch) if (event.type === 'join') bump('watch');
})();

let sdkConnected!: () => void;
const sdkReady = new Promise<void>((resolve) => (sdkConnected = resolve));
sdk.addListener({
  presence: (event) => {
    if (event.action === 'join') bump('sdk');
  },
  status: (status) => {
    if (String(status.category) === 'PNConnectedCategory') sdkConnected();
  },
});
sdk.subscribe({ channels: ['room-sdk-pnpres'] });
await Promise.all([watchReady, sdkReady]);

interface Round {
  eventsPerSecond: number;
  cpuMicrosPerEvent: number;
}
async function round(who: 'watch' | 'sdk'): Promise<Round> {
  const target = received[who] + EVENTS;
  const channel = who === 'watch' ? 'room-watch' : 'room-sdk';
  const cpu = process.cpuUsage();
  const started = performance.now();
  child.send({ burst: EVENTS, channel });
  while (received[who] < target) await new Promise<void>((resolve) => (wake = resolve));
  wake = undefined;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { eventsPerSecond: EVENTS / seconds, cpuMicrosPerEvent: (used.user + used.system) / EVENTS };
}

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

await watch.return();
await consuming;
sdk.unsubscribeAll();
sdk.destroy();
await presence.close();
child.send('close');
