// Starts roster fleet workers as real child processes (tsx, sources through the @presence/source condition).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RosterWorkerCommand, RosterWorkerReply } from './roster-worker.js';

const WORKER = fileURLToPath(new URL('./roster-worker.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface RosterWorker {
  readonly pid: number;
  request<T extends RosterWorkerReply['type']>(command: RosterWorkerCommand): Promise<Extract<RosterWorkerReply, { type: T }>>;
  kill(signal: NodeJS.Signals): void;
  close(): Promise<void>;
}

export async function startRosterWorker(env: { origin: string; redisUrl: string; channels: string[]; leaseMs?: number; mode?: 'roster' | 'cache'; upstreamCacheMs?: number; cacheTtlMs?: number }): Promise<RosterWorker> {
  const child: ChildProcess = fork(WORKER, [], {
    cwd: PACKAGE_DIR,
    execArgv: ['--import', 'tsx', '--conditions=@presence/source'],
    env: {
      ...process.env,
      ROSTER_ORIGIN: env.origin,
      ROSTER_REDIS_URL: env.redisUrl,
      ROSTER_CHANNELS: env.channels.join(','),
      ROSTER_LEASE_MS: String(env.leaseMs ?? 1000),
      ROSTER_MODE: env.mode ?? 'roster',
      ROSTER_UPSTREAM_CACHE_MS: String(env.upstreamCacheMs ?? 0),
      ROSTER_CACHE_TTL_MS: String(env.cacheTtlMs ?? 3000),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies: Array<(reply: RosterWorkerReply) => void> = [];
  child.on('message', (reply: RosterWorkerReply) => replies.shift()?.(reply));
  const next = (): Promise<RosterWorkerReply> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`roster worker exited (${code}) before answering`));
      child.once('exit', onExit);
      replies.push((reply) => {
        child.off('exit', onExit);
        resolve(reply);
      });
    });
  const ready = await next();
  if (ready.type !== 'ready') throw new Error('roster worker did not start');
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    pid: child.pid!,
    async request(command) {
      const reply = next();
      child.send(command);
      return (await reply) as never;
    },
    kill(signal) {
      child.kill(signal);
    },
    async close() {
      if (gone()) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      try {
        child.send({ type: 'close' } satisfies RosterWorkerCommand);
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
      clearTimeout(timer);
    },
  };
}
