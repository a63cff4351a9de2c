// presence.watch() against the official pubnub SDK's presence listener, on one emulator (in its own
// process): each round publishes a burst of join events on a channel only one of the two watches,
// and times until the last one is delivered, with the CPU this process spent per event. The two
// take turns, the order alternating round by round. After transport-http's watch benchmark, whose
// emulator process (publishing the bursts, subscribe key `bench`) it shares.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createPresence } from '@presence/core';
import { httpTransport } from '@presence/transport-http';
import PubNub from 'pubnub';
import { ROUNDS, report } from '../lib/section.js';
import { pairedRow } from '../lib/stats.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const section = `watch() events (${EVENTS.toLocaleString('en-US')} joins a round, one long-poll each)`;
const child = fork(fileURLToPath(new URL('../../packages/transport-http/bench/watch-emulator-process.ts', import.meta.url)), {
  execArgv: ['--import', 'tsx'],
  env: { ...process.env, BENCH_EVENTS: String(EVENTS) },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const [emulator] = (await once(child, 'message')) as [{ origin: string; port: number }];
const presence = createPresence({ subscribeKey: 'bench', userId: 'bench-watch', transport: httpTransport({ origin: emulator.origin }) });
const sdk = new PubNub({ origin: `127.0.0.1:${emulator.port}`, ssl: false, subscribeKey: 'bench', userId: 'bench-sdk', logVerbosity: false });

type Side = 'watch' | 'sdk';
const received: Record<Side, number> = { watch: 0, sdk: 0 };
let wake: (() => void) | undefined;
const bump = (side: Side): void => {
  received[side]++;
  wake?.();
};

let watchConnected!: () => void;
const watchReady = new Promise<void>((resolve) => (watchConnected = resolve));
const watch = presence.watch({ channels: ['room-watch'], onConnect: () => watchConnected() });
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

async function round(side: Side): Promise<{ rate: number; cpu: number }> {
  const target = received[side] + EVENTS;
  const cpu = process.cpuUsage();
  const started = performance.now();
  child.send({ burst: EVENTS, channel: side === 'watch' ? 'room-watch' : 'room-sdk' });
  while (received[side] < target) await new Promise<void>((resolve) => (wake = resolve));
  wake = undefined;
  const used = process.cpuUsage(cpu);
  return { rate: EVENTS / ((performance.now() - started) / 1000), cpu: (used.user + used.system) / EVENTS };
}

await round('watch'); // warm-up
await round('sdk');
const rounds: Record<Side, Array<{ rate: number; cpu: number }>> = { watch: [], sdk: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const side of (r % 2 ? ['sdk', 'watch'] : ['watch', 'sdk']) as Side[]) rounds[side].push(await round(side));
}

await watch.return();
await consuming;
sdk.unsubscribeAll();
sdk.destroy();
await presence.close();
child.send('close');
await once(child, 'exit');

const rate = (side: Side) => rounds[side].map((r) => r.rate);
const cpu = (side: Side) => rounds[side].map((r) => r.cpu);
report([
  pairedRow({ section, name: 'watch() / official pubnub SDK presence listener, events delivered per second', unit: 'events/s', ours: rate('watch'), baseline: rate('sdk') }),
  pairedRow({ section, name: 'watch() / official pubnub SDK presence listener, CPU time per event', unit: 'µs CPU/event', ours: cpu('watch'), baseline: cpu('sdk'), ratios: cpu('sdk').map((value, i) => value / cpu('watch')[i]!), note: 'ratio = baseline µs / watch() µs' }),
]);
