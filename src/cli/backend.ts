import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
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
  const embedded = resolve(config.BATON_DATA_DIR, 'db');
  if (config.REDIS_URL === undefined && !existsSync(resolve(embedded, 'pg')))
    io.stderr(
      `baton: creating the embedded database in ${embedded} (first use only: a few seconds).\n`,
    );
  return withBackend(config, (message) => io.stderr(`baton: ${message}\n`), command, work);
}
