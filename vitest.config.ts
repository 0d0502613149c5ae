import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Most files wait on real sshd hosts, services and timers rather than the CPU: two at a time
    // (each on loopback addresses and Redis keys of its own) halve the wall time on two cores.
    maxWorkers: 2,
    // Integration tests start real sshd processes and wait on real health checks.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
