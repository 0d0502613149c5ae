import type { Config } from '../config/env.js';
import type { Backend } from '../main.js';
import type { CliIo } from './io.js';
import { servedBackend } from './served-backend.js';

/**
 * Runs one command's work on Redis (REDIS_URL) or on the embedded database, saying on stderr
 * when Redis goes away, and when the embedded database is being created (which takes seconds).
 * A `baton start` or `baton worker` holding the embedded database answers the command's calls
 * itself, over the data directory's socket; only when none answers is the database opened here.
 */
export async function useBackend<T>(
  config: Config,
  io: CliIo,
  command: string,
  work: (backend: Backend) => Promise<T>,
): Promise<T> {
  const served = config.REDIS_URL === undefined ? await servedBackend(config) : undefined;
  if (served !== undefined) {
    try {
      return await work(served);
    } finally {
      await served.close();
    }
  }
  // The wiring loads every backend's packages: not needed when a running process answers.
  const { withBackend } = await import('../main.js');
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
