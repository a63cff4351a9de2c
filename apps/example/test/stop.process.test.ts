import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Starts `pnpm start` from the repository root, as a user (or a container's entry point) would:
 * pnpm runs the root script, which runs the app's script, which runs node. `detached` gives it its
 * own process group, like a terminal's foreground job.
 */
function pnpmStart(args: readonly string[], env: Record<string, string>) {
  const child = spawn('pnpm', [...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

async function waitFor(read: () => string, pattern: RegExp, child: ChildProcess, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(read());
    if (match) return match;
    if (Date.now() > until || child.exitCode !== null) throw new Error(`no ${pattern} in:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Whether any process of the group is still alive (an orphaned server would be). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

describe('pnpm start stops cleanly', () => {
  test.each([
    ['SIGTERM to the pnpm process (docker stop)', 'SIGTERM', 'process', ['start']],
    ['SIGINT to the process group (Ctrl-C in a terminal)', 'SIGINT', 'group', ['start']],
    ['SIGTERM to the process group (systemd stops every process of the unit)', 'SIGTERM', 'group', ['start']],
    ['SIGTERM to pnpm running the app\'s own script', 'SIGTERM', 'process', ['--filter', '@presence/example', 'start']],
  ] as const)('%s: exit 0, the port is free, nothing left running, no ELIFECYCLE', async (_name, signal, target, args) => {
    const run = pnpmStart(args, { SIMULATE: '1' });
    const pgid = run.child.pid!;
    try {
      const [, url] = await waitFor(run.output, /Who's online: (http:\/\/\S+?)\/?$/m, run.child);
      const port = Number(new URL(url!).port);
      // A live event stream is open when the signal arrives: it must not hold the shutdown.
      const stream = await fetch(`${url}/events`);
      expect(stream.status).toBe(200);
      const reader = stream.body!.getReader();
      await reader.read();
      const streamEnded = (async () => {
        for (;;) if ((await reader.read()).done) return true;
      })().catch(() => true);

      // And a request is in flight: the upstream answers slowly, and the request still completes.
      const [, emulator] = await waitFor(run.output, /embedded emulator at (http:\/\/\S+)/, run.child);
      expect((await fetch(`${emulator}/__emulator/latency`, { method: 'POST', body: JSON.stringify({ ms: 600 }) })).status).toBeLessThan(300);
      const inflight = fetch(`${url}/users/ada/rooms`).then((response) => response.status);
      await new Promise((resolve) => setTimeout(resolve, 150));

      if (target === 'group') process.kill(-pgid, signal);
      else process.kill(pgid, signal);

      expect(await inflight).toBe(200);

      const { code, signal: killedBy } = await run.exited;
      expect({ code, killedBy }).toEqual({ code: 0, killedBy: null });
      expect(await streamEnded).toBe(true);
      expect(await waitUntil(() => !groupAlive(pgid), 10_000)).toBe(true);
      expect(await portAnswers(port)).toBe(false);
      expect(run.output()).not.toMatch(/ELIFECYCLE|Command failed/);
      expect(run.output()).toMatch(/(SIGINT|SIGTERM): finishing in-flight requests/);
    } finally {
      if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
    }
  }, 90_000);
});
