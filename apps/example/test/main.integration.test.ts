import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Runs the service as `pnpm start` does (node with tsx, sources through the @presence/source condition). */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@presence/source', 'src/main.ts'], {
    cwd: APP_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(stdout);
      if (match) return match;
      if (Date.now() > until || child.exitCode !== null) throw new Error(`no ${pattern} in:\n${stdout}${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, exited, waitFor, stdout: () => stdout, stderr: () => stderr };
}

/** A start-up failure: exit 1 and exactly one line on stderr naming the variable; no stack trace. */
async function expectOneLineFailure(env: Record<string, string>, variable: string): Promise<string> {
  const run = start(env);
  expect(await run.exited).toBe(1);
  const lines = run.stderr().trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^presence example: (cannot start|bad configuration): ${variable}: `));
  expect(run.stderr()).not.toMatch(/\n\s+at |Error:|node:internal/);
  return lines[0]!;
}

// Each test starts the service as a child process compiled by tsx: seconds when quiet, far longer on
// a loaded machine. Generous limits: what is checked is what it prints and how it exits.
describe('the service process', { timeout: 90_000 }, () => {
  test('starts on embedded defaults, prints the page URL first, answers, and exits 0 on SIGTERM', async () => {
    const run = start({ PORT: '0' });
    const [, url] = await run.waitFor(/Who's online: (http:\/\/\S+?)\/?\n/);
    expect(run.stdout().trimStart().split('\n')[0]).toMatch(/^Who's online: http:\/\/127\.0\.0\.1:\d+\/$/);
    await run.waitFor(/curl .*\/readyz/);
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<h1>Who's online<\/h1>/);
    const answer = (await (await fetch(`${url}/rooms/lobby/presence`)).json()) as { occupancy: number; occupants: unknown[] };
    expect(answer.occupancy).toBeGreaterThan(0); // the simulated users are online
    expect(answer.occupants.length).toBe(answer.occupancy);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  test('the page URL comes first even when start-up logs a warning (Redis not answering yet)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve())); // nothing listens there now
    // Both streams into one pipe, in the order written, as a terminal shows them.
    const child = spawn('sh', ['-c', `exec "${process.execPath}" --import tsx --conditions=@presence/source src/main.ts 2>&1`], {
      cwd: APP_DIR,
      env: { ...process.env, PORT: '0', SIMULATE: '0', REDIS_URL: `redis://127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const until = Date.now() + 60_000;
      while (!/curl .*\/readyz/.test(output)) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`not started:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const lines = output.trimStart().split('\n');
      expect(lines[0]).toMatch(/^Who's online: http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(output).toMatch(/"reason":"redis_not_ready"/); // the warning is still shown, after the URL
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);

  test('a bad setting stops start-up with a message naming it', async () => {
    await expectOneLineFailure({ PORT: '0', REDIS_URL: 'not a url' }, 'REDIS_URL');
  });

  test('a port in use: one line naming PORT', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = (holder.address() as AddressInfo).port;
      const line = await expectOneLineFailure({ PORT: String(port), SIMULATE: '0' }, 'PORT');
      expect(line).toContain(`port ${port}`);
      expect(line).toMatch(/already in use/);
    } finally {
      holder.close();
    }
  });

  test('an unknown HOST: one line naming HOST', async () => {
    const line = await expectOneLineFailure({ PORT: '0', HOST: 'no-such-host.invalid', SIMULATE: '0' }, 'HOST');
    expect(line).toMatch(/not a known host/);
  });

  test('an unknown Redis host: one line naming REDIS_URL', async () => {
    const line = await expectOneLineFailure({ PORT: '0', REDIS_URL: 'redis://no-such-host.invalid:6379', SIMULATE: '0' }, 'REDIS_URL');
    expect(line).toMatch(/no-such-host\.invalid/);
  });
});
