import { defineConfig } from 'vitest/config';

// One run for the whole workspace, so one report counts every test.
// Sibling packages resolve to their TypeScript sources through the `@presence/source`
// export condition: tests never wait for a build.
export default defineConfig({
  resolve: { conditions: ['@presence/source', 'import', 'module', 'node', 'default'] },
  ssr: { resolve: { conditions: ['@presence/source', 'import', 'module', 'node', 'default'] } },
  test: {
    projects: ['packages/*', 'apps/*', 'tests/*'],
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
