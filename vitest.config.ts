import { defineConfig } from 'vitest/config';

// One run for the whole workspace, so one report counts every test.
// Sibling packages resolve to their TypeScript sources through the `@presence/source`
// export condition: tests never wait for a build.
export default defineConfig({
  resolve: { conditions: ['@presence/source', 'import', 'module', 'node', 'default'] },
  ssr: { resolve: { conditions: ['@presence/source', 'import', 'module', 'node', 'default'] } },
  test: {
    projects: ['packages/*', 'apps/*', 'tests/*'],
    // Most test files wait on sockets, child processes, Redis and a browser rather than compute, so
    // they overlap well: vitest's default (one worker less than the cores: 1 on these 2-core machines)
    // ran the suite file by file in 430 s; four workers take about 155 s. Every test holds on a busy
    // machine by design, so the added contention is part of what the suite is built to take.
    maxWorkers: 4,
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
  },
});
