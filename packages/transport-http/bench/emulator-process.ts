// The emulator in its own process, so the benchmark's client and server do not share an event loop.
import { createEmulator } from '@presence/emulator';

const secretKey = process.env.BENCH_SECRET_KEY;
const publishKey = process.env.BENCH_PUBLISH_KEY;
const emulator = await createEmulator({ ...(secretKey ? { secretKey, publishKey } : {}) });
process.send?.({ origin: emulator.origin });
process.on('message', async (message) => {
  if (message === 'close') {
    await emulator.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
