import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface EmulatorProcess {
  readonly origin: string;
  /** Sets the emulator's latency fault; resolves once it applies, with the emulator's counters. */
  setLatency(ms: number): Promise<{ signatureFailures: number }>;
  close(): Promise<void>;
}

/** Starts `lib/emulator-process.ts` (the built emulator) in a child process. */
export async function startEmulatorProcess(keys: { secretKey?: string; publishKey?: string } = {}): Promise<EmulatorProcess> {
  const child = fork(fileURLToPath(new URL('./emulator-process.ts', import.meta.url)), {
    env: { ...process.env, BENCH_SECRET_KEY: keys.secretKey ?? '', BENCH_PUBLISH_KEY: keys.publishKey ?? '' },
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const origin = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { origin: string }).origin));
    child.once('exit', (code) => reject(new Error(`the emulator process exited (${code}) before it started`)));
  });
  return {
    origin,
    async setLatency(ms) {
      const reply = once(child, 'message');
      child.send({ latencyMs: ms });
      const [message] = (await reply) as [{ stats: { signatureFailures: number } }];
      return message.stats;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send('close');
      await exited;
    },
  };
}
