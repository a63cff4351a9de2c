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
// Under valgrind on a busy machine the worker can sleep past the emulator's 10 s keep-alive, so a
// pooled socket may be closed under a request. The client's retry() resends such a request; the
// other sides have no retry, so here a request that failed that way is sent again (counted, and
// reported when the worker closes: it adds a connection to that window).
let resent = 0;
const STALE = /ECONNRESET|socket hang up|EPIPE/;
async function call(side: Side): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sides.sides[side]();
    } catch (error) {
      const text = `${(error as { code?: string }).code ?? ''} ${(error as Error).message ?? ''} ${String((error as { status?: { errorData?: unknown } }).status?.errorData ?? '')}`;
      if (attempt >= 3 || !STALE.test(text)) throw error;
      resent++;
    }
  }
}

process.on('message', async (message: WorkerMessage) => {
  if (message === 'close') {
    if (resent > 0) process.stderr.write(`instructions worker: ${resent} requests resent after a stale keep-alive socket\n`);
    await sides.close();
    process.exit(0);
  }
  await throughput(() => call(message.side), message.requests, message.inFlight);
  process.send!('done');
});
process.send!('ready');
