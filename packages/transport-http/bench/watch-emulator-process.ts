// The emulator in its own process for the watch benchmark: the benchmark's process then spends its
// CPU only on delivering events. A `{ burst, channel }` message publishes that many presence events.
import { createEmulator } from '@presence/emulator';

const size = Number(process.env.BENCH_EVENTS ?? 5000);
const emulator = await createEmulator({ catchUpBufferSize: size * 2, sweepIntervalMs: 0 });
let serial = 0;
process.send?.({ origin: emulator.origin, port: emulator.port });
process.on('message', (message: { burst?: number; channel?: string } | 'close') => {
  if (message === 'close') {
    void emulator.close().then(() => process.exit(0));
    return;
  }
  if (typeof message === 'object' && message.burst && message.channel) {
    for (let i = 0; i < message.burst; i++) {
      serial++;
      emulator.publishPresenceEvent({ subscribeKey: 'bench', channel: message.channel, event: { action: 'join', uuid: `u${serial}`, timestamp: Math.floor(Date.now() / 1000), occupancy: i + 1 } });
    }
  }
});
process.on('disconnect', () => process.exit(0));
