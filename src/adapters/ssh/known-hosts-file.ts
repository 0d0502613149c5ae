import { readFile, stat } from 'node:fs/promises';
import { parseKnownHosts, type KnownHostLine } from './known-hosts.js';

/**
 * The known_hosts file as it is now: read again whenever it has changed on disk (a stat per
 * look), so a key revoked or replaced is seen by the very next login or reuse of a connection.
 */
export class KnownHostsFile {
  private cached: { stamp: string; lines: KnownHostLine[] } | undefined;

  constructor(readonly path: string) {}

  /** Throws the file system's error when the file cannot be read. */
  async lines(): Promise<KnownHostLine[]> {
    const info = await stat(this.path);
    // ctime moves on every write and rename onto the path, whatever mtime is set to afterwards.
    const stamp = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
    if (this.cached?.stamp === stamp) return this.cached.lines;
    const lines = parseKnownHosts(await readFile(this.path, 'utf8'));
    this.cached = { stamp, lines };
    return lines;
  }
}
