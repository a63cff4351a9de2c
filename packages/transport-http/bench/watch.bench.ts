// Events per second delivered through presence.watch() and through the official `pubnub` SDK's
// presence listener, on the same emulator in the same run. Each round publishes a burst of presence
// events on a channel only one of the two watches and times until the last one is delivered; the
// two take turns, round by round, so neither runs while the other is measured. Every round is
// printed; the summary gives medians, spreads and the ratio.
//
//   pnpm --filter @presence/transport-http bench:watch      (BENCH_ROUNDS, BENCH_EVENTS to change the size)
import { availableParallelism, cpus, loadavg } from 'node:os';
import { createPresence } from '@presence/core';
import { createEmulator } from '@presence/emulator';
import PubNub from 'pubnub';
import { httpTransport } from '../src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const SUB = 'bench';

const emulator = await createEmulator({ catchUpBufferSize: EVENTS * 2, sweepIntervalMs: 0 });
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
    if (status.category === 'PNConnectedCategory') sdkConnected();
  },
});
sdk.subscribe({ channels: ['room-sdk-pnpres'] });
await Promise.all([watchReady, sdkReady]);

let serial = 0;
async function round(who: 'watch' | 'sdk'): Promise<number> {
  const target = received[who] + EVENTS;
  const channel = who === 'watch' ? 'room-watch' : 'room-sdk';
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    serial++;
    emulator.publishPresenceEvent({ subscribeKey: SUB, channel, event: { action: 'join', uuid: `u${serial}`, timestamp: Math.floor(Date.now() / 1000), occupancy: i + 1 } });
  }
  while (received[who] < target) await new Promise<void>((resolve) => (wake = resolve));
  wake = undefined;
  return EVENTS / ((performance.now() - started) / 1000);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

console.log(`watch() vs pubnub SDK listener: ${EVENTS} presence events per round, ${ROUNDS} rounds (+1 warm-up), emulator in-process`);
console.log(`Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
await round('watch');
await round('sdk');
const rates = { watch: [] as number[], sdk: [] as number[] };
for (let r = 1; r <= ROUNDS; r++) {
  // Alternate who goes first, so neither always runs on a warmer process.
  const order: Array<'watch' | 'sdk'> = r % 2 ? ['watch', 'sdk'] : ['sdk', 'watch'];
  for (const who of order) rates[who].push(await round(who));
  console.log(`round ${r}: watch() ${fmt(rates.watch.at(-1)!)} events/s   SDK listener ${fmt(rates.sdk.at(-1)!)} events/s   ratio ${(rates.watch.at(-1)! / rates.sdk.at(-1)!).toFixed(2)}`);
}
const spread = (xs: number[]): string => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
console.log(`median: watch() ${fmt(median(rates.watch))} events/s (spread ${spread(rates.watch)}), SDK listener ${fmt(median(rates.sdk))} events/s (spread ${spread(rates.sdk)})`);
const ratios = rates.watch.map((w, i) => w / rates.sdk[i]!);
console.log(`ratio watch()/SDK: median of rounds ${median(ratios).toFixed(2)} (spread ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

await watch.return();
await consuming;
sdk.unsubscribeAll();
sdk.destroy();
await presence.close();
await emulator.close();
