import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

let child: ChildProcess | undefined;
let output = '';
// Its own data directory, so the run starts from nothing as on a fresh clone, and leaves a
// developer's own `.data/local` (and a local baton they may have running) alone.
const dataDir = mkdtempSync(join(tmpdir(), 'baton-local-e2e-'));

/** Demo host processes of local mode still running on this machine. */
function demoHosts(): string[] {
  const found = spawnSync('pgrep', ['-af', 'demo/host.mjs'], { encoding: 'utf8' });
  return found.stdout.split('\n').filter((line) => line.includes('--address=127.77.'));
}

/** What a person reads: the output without the terminal's escape sequences. */
const screen = () => output.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');

async function seen(text: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!screen().includes(text)) {
    if (Date.now() > deadline)
      throw new Error(`'${text}' not seen within ${ms} ms; output:\n${output}`);
    if (child?.exitCode !== null) throw new Error(`npm start exited early; output:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterAll(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  spawnSync('pkill', ['-f', 'demo/host.mjs --address=127.77.']);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start, with no Slack token and no Redis', () => {
  it('runs local mode in a terminal: a deploy typed at the prompt is approved there and finishes, and leaving stops every demo host', async () => {
    const env = {
      ...Object.fromEntries(
        Object.entries(process.env).filter(
          ([name]) => !name.startsWith('SLACK_') && name !== 'REDIS_URL',
        ),
      ),
      BATON_DATA_DIR: dataDir,
    };
    // `script` gives npm start a pseudo-terminal, as a person at a terminal has.
    child = spawn('script', ['-qfec', 'npm start', '/dev/null'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const type = (line: string) => child?.stdin?.write(`${line}\r`);

    await seen('baton>', 90_000);
    expect(screen()).toContain('six demo hosts run on this machine');
    // npm start's build made the template of a new database: no initdb on the first start.
    expect(screen()).toContain('Opening the embedded database');
    expect(screen()).not.toContain('This first start creates it');
    expect(screen()).toContain('(running v1)');
    expect(demoHosts()).toHaveLength(6);
    type('/deploy demo v2');
    await seen('Approve? Type y or n.', 20_000);
    type('y');
    await seen('deploy demo v2 to production: done', 60_000);
    expect(screen()).toMatch(/canary[^\n]*healthy 1\/1/);
    type('/deploy status');
    await seen('demo production: v2', 10_000);
    type('quit');
    const code = await new Promise<number | null>((resolve) => child?.once('exit', resolve));
    expect(code).toBe(0);
    expect(screen()).toContain('Stopped the demo hosts.');
    expect(demoHosts()).toEqual([]);
  }, 180_000);
});
