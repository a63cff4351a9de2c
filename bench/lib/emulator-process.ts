// The emulator in its own process, so a benchmark's client and server do not share an event loop.
// IPC: `{ latencyMs }` sets the emulator's latency fault (delay before every answer) and is answered
// with `{ latencyMs }`; `'close'` closes it and exits.
import { createEmulator } from '@presence/emulator';

const secretKey = process.env.BENCH_SECRET_KEY;
const publishKey = process.env.BENCH_PUBLISH_KEY;
const emulator = await createEmulator({ ...(secretKey ? { secretKey, publishKey } : {}), sweepIntervalMs: 0 });
process.send!({ origin: emulator.origin });
process.on('message', async (message: 'close' | { latencyMs: number }) => {
  if (message === 'close') {
    await emulator.close();
    process.exit(0);
  }
  emulator.setLatency(message.latencyMs);
  process.send!({ latencyMs: message.latencyMs, stats: emulator.stats() });
});
process.on('disconnect', () => process.exit(0));
