// The emulator in its own process, so the benchmark's client and server do not share an event loop.
import { createEmulator } from '@presence/emulator';

const secretKey = process.env.BENCH_SECRET_KEY;
const publishKey = process.env.BENCH_PUBLISH_KEY;
// BENCH_LATENCY_MS adds server time to every answer, to compare the two sides where the network, not the client's CPU, sets the pace.
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 0);
const emulator = await createEmulator({ ...(secretKey ? { secretKey, publishKey } : {}), ...(latencyMs > 0 ? { latencyMs } : {}) });
process.send?.({ origin: emulator.origin });
process.on('message', (message) => {
  if (message === 'close') void emulator.close().then(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
