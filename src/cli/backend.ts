import type { Config } from '../config/env.js';
import type { Backend, BackendOptions } from '../main.js';
import type { CliIo } from './io.js';
import { servedBackend } from './served-backend.js';

/**
 * Runs one command's work on Redis (REDIS_URL) or on the embedded database, saying on stderr
 * when Redis goes away, and when the embedded database is being created (which takes seconds).
 * A `baton start` or `baton worker` on this machine answers the command's calls itself, over
 * its command socket, when one runs on the same state (the embedded database it holds, or the
 * same Redis and prefix); only when none answers is the backend opened here. `direct`: open it
 * here in any case (a worker is to run in this process).
 */
export async function useBackend<T>(
  config: Config,
  io: CliIo,
  command: string,
  work: (backend: Backend) => Promise<T>,
  { direct = false }: { direct?: boolean } = {},
): Promise<T> {
  const options: BackendOptions = {
    command,
    trouble: (message) => io.stderr(`baton: ${message}\n`),
    creating: (dir) =>
      io.stderr(
        `baton: creating the embedded database in ${dir} (first use only: a few seconds).\n`,
      ),
  };
  // The wiring loads every backend's packages: not needed when a running process answers.
  const open = async () => (await import('../main.js')).openBackend(config, options);
  const served = direct
    ? undefined
    : await servedBackend(config, open, (message) => io.stderr(`baton: ${message}\n`));
  const backend = served ?? (await open());
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}
