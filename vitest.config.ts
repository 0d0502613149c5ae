import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Integration tests start real sshd processes and wait on real health checks.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
