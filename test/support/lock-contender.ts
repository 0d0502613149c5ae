// One process contending for a data directory, driven line by line over stdin so that a test can
// start many contenders' attempts together: `try` answers `held` or `busy`, `release` answers
// `released`.
import { createInterface } from 'node:readline';
import { DataDirBusyError, DataDirLock } from '../../src/adapters/embedded/data-dir-lock.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: lock-contender <dir>');
let lock: DataDirLock | undefined;

const answer = (line: string) => process.stdout.write(`${line}\n`);

createInterface({ input: process.stdin }).on('line', (command) => {
  if (command === 'try') {
    try {
      lock = DataDirLock.acquire(dir, 'contender');
      answer('held');
    } catch (error) {
      answer(error instanceof DataDirBusyError ? 'busy' : `error ${(error as Error).message}`);
    }
  } else if (command === 'release') {
    lock?.release();
    lock = undefined;
    answer('released');
  }
});
answer('ready');
