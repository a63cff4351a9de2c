// The measured process of `instructions.ts`, run under valgrind's callgrind: builds the four
// origin-path sides (lib/origin-sides.ts) against the emulator at BENCH_ORIGIN, then runs what the
// parent asks over IPC. The parent zeroes and dumps callgrind's counters around each run.
import { originSides, type Side } from './origin-sides.js';
import { throughput } from './stats.js';

/** Runs `requests` calls of one side, `inFlight` at a time. */
export type WorkerMessage = { side: Side; requests: number; inFlight: number } | 'close';

const core = import.meta.resolve('@presence/core');
if (!core.includes('/dist/')) throw new Error(`@presence/core resolves to ${core}, not to the build`);
const origin = process.env.BENCH_ORIGIN!;
// Ten minutes: under valgrind, on a busy machine, one request can take longer than the default 10 s.
const sides = await originSides(origin, process.env.BENCH_SIGNED === '1', { timeoutMs: 600_000 });
process.on('message', async (message: WorkerMessage) => {
  if (message === 'close') {
    await sides.close();
    process.exit(0);
  }
  await throughput(sides.sides[message.side], message.requests, message.inFlight);
  process.send!('done');
});
process.send!('ready');
