import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase } from '../../src/adapters/embedded/embedded-database.js';

const script = fileURLToPath(new URL('../support/embedded-queue-close.ts', import.meta.url));
/** Far longer than the test's timeout: a closing that waits on it fails the test. */
const IDLE_WAIT_S = 600;

let dir: string;
let child: ChildProcess | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-queue-close-'));
});
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Runs the script to its own exit: its status and what it wrote. */
function run(): Promise<{ status: number | null; output: string }> {
  const started = spawn(
    process.execPath,
    ['--import', 'tsx', script, String(IDLE_WAIT_S), join(dir, 'db')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = started;
  let output = '';
  started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => started.once('exit', (status) => resolve({ status, output })));
}

describe('closing the queue on the embedded database', () => {
  it('leaves nothing waiting, so the process exits; a job in progress stays for a resume', async () => {
    const { status, output } = await run();
    expect(output).toBe('closed after taking done, held\n');
    expect(status).toBe(0);

    const database = await openEmbeddedDatabase(join(dir, 'db'), 'queue close test');
    try {
      const { rows } = await database.pool.query(
        "SELECT id, state FROM bullmq.job WHERE queue = 'rollouts' ORDER BY id",
      );
      expect(rows).toEqual([
        { id: 'done', state: 'completed' },
        { id: 'held', state: 'active' },
      ]);
    } finally {
      await database.close();
    }
  });
});
