import type { DirHolder } from './data-dir-lock.js';

/**
 * Another live process holds the embedded data directory. Apart from the lock itself, whose
 * native module every command would otherwise load only to tell this error from others.
 */
export class DataDirBusyError extends Error {
  constructor(
    readonly dir: string,
    /** Unknown only while the holder is still writing its name, in the instant after it locked. */
    readonly holder: DirHolder | undefined,
  ) {
    super(
      `${dir} is in use by ${holder === undefined ? 'another baton process' : `baton process ${holder.pid} on ${holder.host} (${holder.command}, since ${new Date(holder.since).toISOString()})`}. ` +
        'Only one baton process at a time can use the embedded backend: stop that one first, ' +
        'point BATON_DATA_DIR at another directory, or set REDIS_URL so that several processes share state.',
    );
    this.name = 'DataDirBusyError';
  }
}
