import { defineConfig, type Options } from 'tsup';

/**
 * Every package builds the same way: ESM + CJS + types for Node 20, from the given entry files.
 * `keepNames`: esbuild renames a class that refers to itself (`_PresenceApiError`); error names,
 * `toJSON()`, logs and stacks read `constructor.name`, so names must survive the build.
 */
export function definePackage(entry: string[], extra: Options = {}) {
  return defineConfig({ entry, format: ['esm', 'cjs'], dts: true, clean: true, sourcemap: true, target: 'node20', keepNames: true, ...extra });
}
