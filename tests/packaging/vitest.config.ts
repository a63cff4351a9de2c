import { defineProject } from 'vitest/config';

export default defineProject({
  // Builds, packs and installs from the npm registry: minutes on a busy machine, not seconds.
  test: { testTimeout: 15 * 60_000, hookTimeout: 15 * 60_000 },
});
