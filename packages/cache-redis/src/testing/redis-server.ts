// Starts real redis-server processes for the tests and the benchmark (never a mock of Redis).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function cli(port: number, ...args: string[]): string {
  const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000 });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}.`);
    await sleep(25);
  }
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: the server vanishes without a goodbye. */
  kill(): void;
  /** SIGSTOP / SIGCONT: the server stops answering but keeps its sockets. */
  pause(): void;
  resume(): void;
  /** Starts a fresh server on the same port (after kill). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisServer(extraArgs: string[] = [], port?: number): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const proc = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], {
      stdio: 'ignore',
    });
    child = proc;
    let exited = false;
    // A crashed test or benchmark must not leave a server behind.
    const reap = (): void => void proc.kill('SIGKILL');
    process.once('exit', reap);
    proc.once('exit', () => {
      exited = true;
      process.off('exit', reap);
    });
    await waitFor(() => {
      if (exited) throw new Error(`redis-server exited on port ${chosen}`);
      return cli(chosen, 'PING').trim() === 'PONG';
    }, `redis-server on port ${chosen}`);
  };
  await launch();
  const signal = (name: NodeJS.Signals): void => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(name);
  };
  const waitExit = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  };
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    kill: () => signal('SIGKILL'),
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async restart() {
      await waitExit();
      await launch();
    },
    async stop() {
      signal('SIGCONT');
      signal('SIGKILL');
      await waitExit();
    },
  };
}

export interface RedisCluster {
  readonly ports: readonly number[];
  /** A connected ioredis Cluster client (the caller quits it). */
  client(): Promise<Cluster>;
  keySlot(key: string): number;
  stop(): Promise<void>;
}

/** Three masters, no replicas, configs in a temporary directory removed on stop. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'presence-redis-cluster-'));
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      servers.push(
        await startRedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir], port),
      );
    }
    const ports = servers.map((s) => s.port);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await waitFor(() => ports.every((p) => cli(p, 'CLUSTER', 'INFO').includes('cluster_state:ok')), 'cluster_state:ok', 20_000);
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const ports = servers.map((s) => s.port);
  return {
    ports,
    async client() {
      const cluster = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
      await new Promise<void>((resolve, reject) => {
        cluster.once('ready', () => resolve());
        cluster.once('error', reject);
      });
      return cluster;
    },
    keySlot: (key) => Number(cli(ports[0]!, 'CLUSTER', 'KEYSLOT', key).trim()),
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A connected client that never queues offline, for test assertions. */
export async function connect(port: number): Promise<Redis> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  redis.on('error', () => {});
  await redis.connect();
  return redis;
}
