/**
 * The emulator alone in its own process, so the subscribe benchmark can read the emulator's RSS apart from
 * the 1,000 clients'. Talks to the parent over IPC: it sends `{ port }` once listening, answers `'sample'` with
 * `{ rss, peakRss, heapUsed, cpuMs, stats }`, and closes on `'close'`.
 */
import { createEmulator } from '../src/index.js';

// EMULATOR_OPTIONS (JSON) overrides options, e.g. '{"catchUpBufferSize":5}'.
const emulator = await createEmulator({ sweepIntervalMs: 1000, ...(JSON.parse(process.env.EMULATOR_OPTIONS ?? '{}') as object) });
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

process.on('message', (message) => {
  if (message === 'sample') {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    const cpu = process.cpuUsage();
    // With --expose-gc (the benchmark passes it), heapUsed after a full collection is the live heap: a leak shows as growth.
    (globalThis as { gc?: () => void }).gc?.();
    const heapUsed = process.memoryUsage().heapUsed;
    process.send?.({ rss, peakRss, heapUsed, cpuMs: (cpu.user + cpu.system) / 1000, stats: emulator.stats() });
  } else if (message === 'close') {
    clearInterval(sampler);
    void emulator.close().then(() => process.exit(0));
  }
});
process.send?.({ port: emulator.port });
