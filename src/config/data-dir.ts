import { resolve } from 'node:path';
import type { Config } from './env.js';

/**
 * Where the embedded database of BATON_DATA_DIR is (and its lock and command socket). Apart from
 * the wiring, so that a command answered through the socket loads none of the backends.
 */
export const embeddedDataDir = (config: Pick<Config, 'BATON_DATA_DIR'>): string =>
  resolve(config.BATON_DATA_DIR, 'db');
