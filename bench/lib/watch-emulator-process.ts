// The emulator in its own process for the watch section: a `{ burst, channel }` message publishes
// that many presence events (joins) on the channel and is answered with `{ published }`.
import { createEmulator } from '@presence/emulator';

const size = Number(process.env.BENCH_EVENTS);
const emulator = await createEmulator({ catchUpBufferSize: size * 2, sweepIntervalMs: 0 });
let serial = 0;
process.send!({ origin: emulator.origin, port: emulator.port });
process.on('message', async (message: { burst: number; channel: string } | 'close') => {
  if (message === 'close') {
    await emulator.close();
    process.exit(0);
  }
  for (let i = 0; i < message.burst; i++) {
    serial++;
    emulator.publishPresenceEvent({ subscribeKey: 'sub-c-bench', channel: message.channel, event: { action: 'join', uuid: `u${serial}`, timestamp: Math.floor(Date.now() / 1000), occupancy: i + 1 } });
  }
});
process.on('disconnect', () => process.exit(0));
