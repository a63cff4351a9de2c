#!/usr/bin/env node
import { createEmulator, type EmulatorOptions } from './create-emulator.js';
import { CliUsageError, cliUsage, parseCliArgs } from './parse-cli-args.js';

async function main(): Promise<void> {
  let options: EmulatorOptions | undefined;
  try {
    options = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${cliUsage}\n`);
    process.exitCode = 2;
    return;
  }
  if (options === undefined) {
    process.stdout.write(`${cliUsage}\n`);
    return;
  }
  const emulator = await createEmulator(options);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // `on`, not `once`: Ctrl-C reaches the whole process group, so a runner such as pnpm may pass the
  // same signal on a second time while we close; a second signal with no listener would kill us
  // mid-close (exit by signal instead of 0). Repeats are ignored by `stopping`.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Printed only once the handlers are in place: whoever reads the origin may signal at once, and
  // a signal that arrives before Node has a listener for it kills the process by default.
  process.stdout.write(`${emulator.origin}\n`);
}

/** One line a person can act on: a listen failure names the flag to change, not the system call. */
function startupMessage(error: unknown): string {
  const { code, address, port } = (error ?? {}) as { code?: string; address?: string; port?: number };
  if (code === 'EADDRINUSE') return `port ${port} on ${address} is already in use; stop what holds it or pass another --port (0 picks a free one).`;
  if (code === 'EADDRNOTAVAIL') return `${address} is not an address of this machine; pass another --host (e.g. 127.0.0.1).`;
  if (code === 'EACCES') return `not allowed to listen on port ${port}; pass a --port above 1023 (0 picks a free one).`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the --host name is not known; pass an address such as 127.0.0.1.`;
  return error instanceof Error ? error.message : String(error);
}

main().catch((error: unknown) => {
  process.stderr.write(`presence-emulator: cannot start: ${startupMessage(error)}\n`);
  process.exit(1);
});
