// The race both watch benchmarks run (this package's and the root `pnpm bench` section): the
// emulator in its own process publishes a burst of join events on a channel only one side watches,
// and a round times until the last one is delivered, with the CPU this process spent per event.
// One side is `presence.watch()` on the client the caller builds (from sources or from the build),
// the other the official `pubnub` SDK's presence listener.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { PresenceClient } from '@presence/core';
import PubNub from 'pubnub';

export type Side = 'watch' | 'sdk';
export interface RaceRound {
  eventsPerSecond: number;
  cpuMicrosPerEvent: number;
}
export interface WatchRace {
  round(side: Side): Promise<RaceRound>;
  close(): Promise<void>;
}

/** Starts the emulator process, both consumers, and waits until both are connected. */
export async function startWatchRace(options: { events: number; execArgv?: string[]; client: (origin: string) => PresenceClient }): Promise<WatchRace> {
  const { events } = options;
  const child = fork(fileURLToPath(new URL('./watch-emulator-process.ts', import.meta.url)), {
    ...(options.execArgv ? { execArgv: options.execArgv } : {}),
    env: { ...process.env, BENCH_EVENTS: String(events) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const emulator = await new Promise<{ origin: string; port: number }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { origin: string; port: number }));
    child.once('exit', (code) => reject(new Error(`the emulator process exited (${code}) before it started`)));
  });
  const presence = options.client(emulator.origin);
  const sdk = new PubNub({ origin: `127.0.0.1:${emulator.port}`, ssl: false, subscribeKey: 'bench', userId: 'bench-sdk', logVerbosity: false });

  // Counters each consumer bumps; a round waits for its consumer's count to reach the target.
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
      if (String(status.category) === 'PNConnectedCategory') sdkConnected();
    },
  });
  sdk.subscribe({ channels: ['room-sdk-pnpres'] });
  await Promise.all([watchReady, sdkReady]);

  return {
    async round(side) {
      const target = received[side] + events;
      const cpu = process.cpuUsage();
      const started = performance.now();
      child.send({ burst: events, channel: side === 'watch' ? 'room-watch' : 'room-sdk' });
      while (received[side] < target) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      return { eventsPerSecond: events / seconds, cpuMicrosPerEvent: (used.user + used.system) / events };
    },
    async close() {
      await watch.return();
      await consuming;
      sdk.unsubscribeAll();
      sdk.destroy();
      await presence.close();
      child.send('close');
      await once(child, 'exit');
    },
  };
}
