import type { Config } from '../config/env.js';
import { withBackend, type Backend } from '../main.js';
import type { CliIo } from './io.js';

/**
 * Runs one command's work on Redis (REDIS_URL) or on the embedded database, saying on stderr
 * when Redis goes away, and when the embedded database is being created (which takes seconds).
 */
export function useBackend<T>(
  config: Config,
  io: CliIo,
  command: string,
  work: (backend: Backend) => Promise<T>,
): Promise<T> {
  return withBackend(
    config,
    {
      command,
      trouble: (message) => io.stderr(`baton: ${message}\n`),
      creating: (dir) =>
        io.stderr(
          `baton: creating the embedded database in ${dir} (first use only: a few seconds).\n`,
        ),
    },
    work,
  );
}
