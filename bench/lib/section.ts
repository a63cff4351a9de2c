// A section runs in its own child process (so no section's code shapes the JIT for another's) and
// sends its rows to the runner over IPC.
import type { Row } from './stats.js';

export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);

/** Sends the rows to the parent (run.ts), or prints them when the section is run on its own. */
export function report(rows: readonly Row[]): void {
  if (process.send) process.send({ rows });
  else for (const row of rows) console.log(JSON.stringify(row));
}

/** A section with nothing to measure (yet): the runner prints the reason under the table. */
export function skip(reason: string): void {
  if (process.send) process.send({ rows: [], skipped: reason });
  else console.log(`skipped: ${reason}`);
}
