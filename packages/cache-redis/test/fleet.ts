// Starts fleet workers as real child processes (tsx; sources through the @presence/source condition, or the built packages).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerCommand, WorkerMode, WorkerReply } from './fleet-worker.js';

const WORKER = fileURLToPath(new URL('./fleet-worker.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface FleetWorker {
  request(command: WorkerCommand): Promise<Extract<WorkerReply, { type: 'done' }>>;
  close(): Promise<void>;
}

export async function startWorker(env: { origin: string; redisUrl?: string; mode: WorkerMode; ttlMs: number; l1TtlMs?: number; commandTimeoutMs?: number; userId?: string; built?: boolean }): Promise<FleetWorker> {
  const child: ChildProcess = fork(WORKER, [], {
    cwd: PACKAGE_DIR,
    execArgv: ['--import', 'tsx', ...(env.built ? [] : ['--conditions=@presence/source'])],
    env: {
      ...process.env,
      FLEET_ORIGIN: env.origin,
      FLEET_REDIS_URL: env.redisUrl ?? '',
      FLEET_MODE: env.mode,
      FLEET_TTL_MS: String(env.ttlMs),
      ...(env.userId ? { FLEET_USER_ID: env.userId } : {}),
      ...(env.l1TtlMs ? { FLEET_L1_TTL_MS: String(env.l1TtlMs) } : {}),
      ...(env.commandTimeoutMs ? { FLEET_COMMAND_TIMEOUT_MS: String(env.commandTimeoutMs) } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies: Array<(reply: WorkerReply) => void> = [];
  child.on('message', (reply: WorkerReply) => replies.shift()?.(reply));
  const next = (): Promise<WorkerReply> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`fleet worker exited (${code}) before answering`));
      child.once('exit', onExit);
      replies.push((reply) => {
        child.off('exit', onExit);
        resolve(reply);
      });
    });
  const ready = await next();
  if (ready.type !== 'ready') throw new Error('fleet worker did not start');
  return {
    async request(command) {
      const reply = next();
      child.send(command);
      const answer = await reply;
      if (answer.type !== 'done') throw new Error(`unexpected worker reply ${answer.type}`);
      return answer;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      try {
        child.send({ type: 'close' } satisfies WorkerCommand);
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
      clearTimeout(timer);
    },
  };
}
