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
  process.stdout.write(`${emulator.origin}\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`presence-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
