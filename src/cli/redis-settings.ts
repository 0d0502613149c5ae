import type { RedisSettings } from '../main.js';
import type { CliIo } from './io.js';

/** Redis as configured, with trouble reported on stderr one line per outage. Callers check REDIS_URL first. */
export function redisSettings(
  config: { REDIS_URL?: string | undefined; BATON_REDIS_PREFIX: string },
  io: CliIo,
): RedisSettings {
  if (config.REDIS_URL === undefined) throw new Error('REDIS_URL is not set');
  return {
    url: config.REDIS_URL,
    prefix: config.BATON_REDIS_PREFIX,
    trouble: (message) => io.stderr(`baton: ${message}\n`),
  };
}
