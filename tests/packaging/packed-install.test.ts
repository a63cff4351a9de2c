// What a new user gets from npm: every package is built and packed (`pnpm pack`), the tarballs
// are installed with npm into a fresh project with ioredis 5, then upgraded to ioredis 6, and a
// user's program (consumer/check.ts) is compiled by `tsc --strict` as ESM and as CommonJS and run
// against a real emulator and a real redis-server. Tests of the sources cannot see what the
// bundler does to the built files (issue 16: mangled class names, peer ranges, types).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const npmFlags = ['--no-audit', '--no-fund', '--loglevel=error'];

let work = '';
let project = '';

async function sh(command: string, args: readonly string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
}

/** A fresh strict project of one module kind beside the shared node_modules. */
async function writeProject(kind: 'module' | 'commonjs'): Promise<string> {
  const dir = path.join(project, kind === 'module' ? 'esm' : 'cjs');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ private: true, type: kind }));
  const compilerOptions = { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', outDir: 'out', types: ['node'], skipLibCheck: false };
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['check.ts'] }));
  await copyFile(path.join(import.meta.dirname, 'consumer/check.ts'), path.join(dir, 'check.ts'));
  return dir;
}

interface Report {
  renamed: string[];
  errors: Record<string, { name: string; json: unknown; stack: string | undefined }>;
  calls: Record<string, unknown>;
}

async function compileAndRun(kind: 'module' | 'commonjs'): Promise<Report> {
  const dir = await writeProject(kind);
  await sh(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
  const output = await sh(process.execPath, ['out/check.js'], dir);
  return JSON.parse(output.trim().split('\n').at(-1)!) as Report;
}

function expectSound(report: Report): void {
  expect(report.renamed).toEqual([]);
  expect(Object.keys(report.errors)).toHaveLength(9);
  for (const [constructorName, seen] of Object.entries(report.errors)) {
    expect(constructorName).not.toMatch(/^_/);
    expect(seen.name, constructorName).toBe(constructorName);
    expect(seen.stack, constructorName).toBe(constructorName);
    if (seen.json !== undefined) expect(seen.json, constructorName).toBe(constructorName);
  }
  const { objectStyle, builderStyle, whereNow, executed, emptyList, cached } = report.calls;
  expect(objectStyle).toEqual({ totalChannels: 1, totalOccupancy: 1, channels: [{ name: 'lobby', occupancy: 1, occupants: [{ userId: 'new-user', state: { mood: 'happy' } }] }] });
  expect(builderStyle).toEqual(objectStyle);
  expect(whereNow).toEqual({ channels: ['lobby'] });
  expect(executed).toEqual(whereNow);
  expect(emptyList).toMatch(/^PresenceValidationError: hereNow: channels is an empty list/);
  expect(cached).toBe(true);
}

async function installedVersion(name: string): Promise<string> {
  return (JSON.parse(await readFile(path.join(project, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'presence-pack-'));
  project = path.join(work, 'project');
  const tarballs = path.join(work, 'tarballs');
  await mkdir(project, { recursive: true });
  // Turbo's cache makes this quick when nothing changed since the last build.
  await sh('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], root);
  const packages = await readdir(path.join(root, 'packages'));
  for (const name of packages) await sh('pnpm', ['pack', '--pack-destination', tarballs], path.join(root, 'packages', name));
  const dependencies: Record<string, string> = { ioredis: '^5', 'prom-client': '^15', '@types/node': '^20' };
  for (const file of await readdir(tarballs)) {
    const name = `@presence/${/^presence-(.+)-\d+\.\d+\.\d+.*\.tgz$/.exec(file)![1]!}`;
    dependencies[name] = `file:${path.join(tarballs, file)}`;
  }
  expect(Object.keys(dependencies).filter((name) => name.startsWith('@presence/'))).toHaveLength(packages.length);
  await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'new-user', private: true, dependencies }, null, 2));
  await sh('npm', ['install', ...npmFlags], project);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed packages, as a new user installs them', () => {
  test('with ioredis 5 the tree is valid', async () => {
    expect(await installedVersion('ioredis')).toMatch(/^5\./);
    await sh('npm', ['ls', '--all', '--loglevel=error'], project);
  });

  test('ioredis 5, ESM: strict types, kept class names, every call in both styles', async () => {
    expectSound(await compileAndRun('module'));
  });

  test('ioredis 5, CommonJS: strict types, kept class names, every call in both styles', async () => {
    expectSound(await compileAndRun('commonjs'));
  });

  test('upgrading to ioredis 6 installs cleanly (no ERESOLVE) and leaves a valid tree', async () => {
    await sh('npm', ['install', 'ioredis@^6', ...npmFlags], project);
    expect(await installedVersion('ioredis')).toMatch(/^6\./);
    await sh('npm', ['ls', '--all', '--loglevel=error'], project);
  });

  test('ioredis 6, ESM', async () => {
    expectSound(await compileAndRun('module'));
  });

  test('ioredis 6, CommonJS', async () => {
    expectSound(await compileAndRun('commonjs'));
  });
});
