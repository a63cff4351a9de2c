import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Runs the service as `pnpm start` does (tsx, sources through the @presence/source condition). */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@presence/source', 'src/main.ts'], {
    cwd: APP_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (pattern: RegExp, timeoutMs = 45_000): Promise<RegExpExecArray> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(output);
      if (match) return match;
      if (Date.now() > until || child.exitCode !== null) throw new Error(`no ${pattern} in:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, exited, waitFor, output: () => output };
}

describe('the service process', () => {
  test('starts on embedded defaults, prints the URLs, answers, and exits 0 on SIGTERM', async () => {
    const run = start({ PORT: '0' });
    const [, url] = await run.waitFor(/listening on (http:\/\/\S+)/);
    await run.waitFor(/curl .*\/rooms\/lobby\/presence/);
    const answer = (await (await fetch(`${url}/rooms/lobby/presence`)).json()) as { occupancy: number; occupants: unknown[] };
    expect(answer.occupancy).toBeGreaterThan(0); // the simulated users are online
    expect(answer.occupants.length).toBe(answer.occupancy);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  }, 90_000); // a child process compiled by tsx: seconds when quiet, far longer on a loaded machine

  test('a bad setting stops start-up with a message naming it', async () => {
    const run = start({ PORT: '0', REDIS_URL: 'not a url' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/bad configuration: REDIS_URL: /);
  }, 90_000);
});
