import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));
// The command as pnpm links it into a dependent's node_modules/.bin (the example app depends on the emulator).
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const linkedCommand = fileURLToPath(new URL('../../../apps/example/node_modules/.bin/presence-emulator', import.meta.url));

/** Starts the CLI, waits for the origin it prints, checks it serves, and stops it with SIGTERM. */
async function serveAndStop(command: string, args: string[]): Promise<void> {
  const child = spawn(command, [...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const origin = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n') && line) resolve(line);
      });
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${err}`)));
    });
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${origin}/time/0`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset="UTF-8"');
    await res.text();
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

describe('presence-emulator CLI', () => {
  it('prints its origin, serves, and exits 0 on SIGTERM', async () => {
    // tsx runs the TypeScript source, so this does not depend on a prior build.
    await serveAndStop(process.execPath, ['--import', 'tsx', cli]);
  });

  it('a second Ctrl-C while it closes (a runner passing the signal on again) still exits 0, not by the signal', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await once(child.stdout, 'data');
    child.kill('SIGINT');
    setImmediate(() => child.kill('SIGINT'));
    expect(await exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('the bin is a committed file, so pnpm links it before any build', () => {
    const pkg = JSON.parse(readFileSync(`${packageDir}/package.json`, 'utf8')) as { bin: Record<string, string>; files: string[] };
    const bin = pkg.bin['presence-emulator']!;
    expect(bin).not.toMatch(/^(\.\/)?dist\//); // dist/ is git-ignored: a fresh clone has no such file to link
    expect(existsSync(`${packageDir}/${bin}`)).toBe(true);
    expect(pkg.files).toContain(bin.replace(/^\.\//, '').split('/')[0]); // and it is published
  });

  it('the linked presence-emulator command runs (built or not)', async () => {
    expect(existsSync(linkedCommand)).toBe(true);
    await serveAndStop(linkedCommand, []);
  });

  it('the linked command prints its usage with --help and exits 0', async () => {
    const child = spawn(linkedCommand, ['--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: presence-emulator/);
  });

  it('a port in use ends start-up with one line naming --port and exit 1, not a stack trace', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', cli, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const [code] = await once(child, 'exit');
      expect(code).toBe(1);
      expect(err).toBe(`presence-emulator: cannot start: port ${port} on 127.0.0.1 is already in use; stop what holds it or pass another --port (0 picks a free one).\n`);
    } finally {
      holder.close();
    }
  });

  // `pnpm emulator --port 8090`, as the root README says: the signal reaches the emulator itself (no nested pnpm
  // between), so it exits 0 with no ELIFECYCLE noise, whether the signal goes to pnpm (docker stop) or to the group (Ctrl-C).
  it.each([
    ['SIGTERM to the pnpm process', 'SIGTERM', 'process'],
    ['SIGINT to the process group', 'SIGINT', 'group'],
  ] as const)('pnpm emulator from the repository root stops cleanly on %s', async (_name, signal, target) => {
    const child = spawn('pnpm', ['emulator', '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, killedBy) => resolve({ code, signal: killedBy })));
    try {
      const until = Date.now() + 60_000;
      let origin: string | undefined;
      while (origin === undefined) {
        origin = /^(http:\/\/127\.0\.0\.1:\d+)$/m.exec(output)?.[1];
        if (origin) break;
        if (Date.now() > until || child.exitCode !== null) throw new Error(`no origin printed:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await fetch(`${origin}/time/0`)).status).toBe(200);
      if (target === 'group') process.kill(-child.pid!, signal);
      else child.kill(signal);
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(output).not.toMatch(/ELIFECYCLE|Command failed|ERR_PNPM/);
      await expect(fetch(`${origin}/time/0`)).rejects.toThrow();
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone: nothing left running
      }
    }
  }, 90_000);
});
