import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@presence/source', 'import', 'module', 'node', 'default'] },
  ssr: { resolve: { conditions: ['@presence/source', 'import', 'module', 'node', 'default'] } },
  test: { testTimeout: 20_000, hookTimeout: 30_000 },
});
