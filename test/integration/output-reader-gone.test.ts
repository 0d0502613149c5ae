import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));

describe('a command whose output nobody reads any more', () => {
  it('finishes quietly and with its own status, as when piped into head', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', bin, 'validate', 'playbooks'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed before baton has written anything: each of its writes meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(stderr).not.toContain('fatal');
    expect(status).toBe(0);
  });
});
