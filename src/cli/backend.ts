import type { Config } from '../config/env.js';
import { withBackend, type Backend } from '../main.js';
import type { CliIo } from './io.js';

/**
 * Runs one command's work on Redis (REDIS_URL) or on the embedded database, saying on stderr
 * when Redis goes away.
 */
export function useBackend<T>(
  config: Config,
  io: CliIo,
  command: string,
  work: (backend: Backend) => Promise<T>,
): Promise<T> {
  return withBackend(config, (message) => io.stderr(`baton: ${message}\n`), command, work);
}
