#!/usr/bin/env node
// The `presence-emulator` command. This small file is committed (dist/ is not), so pnpm can link the
// command on a fresh clone before anything is built. It runs the built CLI; in this repository,
// before a build, it runs the TypeScript source through tsx (a dev dependency of the workspace).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('presence-emulator: the package is not built (dist/cli.js is missing); run `pnpm --filter @presence/emulator build`.\n');
    process.exit(1);
  }
  register();
  await import(new URL('../src/cli.ts', import.meta.url).href);
}
