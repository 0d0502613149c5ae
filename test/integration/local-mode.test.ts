import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataDirLock } from '../../src/adapters/embedded/data-dir-lock.js';
import type { CliIo } from '../../src/cli/io.js';
import { loadConfig } from '../../src/config/env.js';
import { runLocalMode } from '../../src/local/local-mode.js';
import { openEmbeddedBackend } from '../../src/main.js';
import { deployedBefore } from '../support/history.js';
import { until } from '../support/until.js';

// A network of its own, so these hosts neither clash with the e2e test's `npm start` (127.77.0.x)
// nor are counted or stopped by it.
const NETWORK = '127.78.0';
const ADDRESSES = [11, 12, 13, 14, 15, 16].map((last) => `${NETWORK}.${last}`);
const holderScript = fileURLToPath(new URL('../support/demo-fleet-holder.ts', import.meta.url));

/** Pids of demo host processes on this file's network that still run. */
function demoHosts(): number[] {
  const found = spawnSync('pgrep', ['-f', `demo/host.mjs --address=${NETWORK}.`], {
    encoding: 'utf8',
  });
  return found.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

/** A console for local mode: what it printed, when it reached its prompt, and a way to leave. */
function localConsole() {
  const printed = { stdout: '', stderr: '' };
  let prompted!: () => void;
  const atPrompt = new Promise<void>((resolve) => (prompted = resolve));
  let leave!: () => void;
  const left = new Promise<void>((resolve) => (leave = resolve));
  const io: CliIo = {
    stdout: (text) => (printed.stdout += text),
    stderr: (text) => (printed.stderr += text),
    env: {},
    now: () => Date.now(),
    lines: () => {
      prompted();
      return {
        lines: (async function* () {
          await left;
          yield 'quit';
        })(),
        close: () => leave(),
      };
    },
  };
  return { io, printed, atPrompt, leave };
}

let base: string;
const held: DataDirLock[] = [];
const servers: Server[] = [];

function config() {
  const loaded = loadConfig({ BATON_DATA_DIR: base });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  return loaded.config;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'baton-local-mode-'));
  // The history says the demo hosts run v3: a deploy of v2, then one of v3.
  const backend = await openEmbeddedBackend(join(base, 'local', 'db'), { command: 'test' });
  try {
    await deployedBefore(
      backend.history,
      { service: 'demo', environment: 'production' },
      'v2',
      'v3',
    );
  } finally {
    await backend.close();
  }
}, 120_000);

afterEach(async () => {
  for (const lock of held.splice(0)) lock.release();
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
  // Whatever a failed test left running goes, by pid.
  for (const pid of demoHosts()) process.kill(pid, 'SIGKILL');
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('local mode’s demo hosts', () => {
  it('come up on the version the history says they run, and are all stopped at leave', async () => {
    const { io, printed, atPrompt, leave } = localConsole();
    const status = runLocalMode(config(), io, { demoNetwork: NETWORK });
    let code: number;
    try {
      await Promise.race([
        atPrompt,
        status.then((exited) => {
          throw new Error(
            `exited ${exited} before the prompt:\n${printed.stdout}${printed.stderr}`,
          );
        }),
      ]);
      expect(printed.stdout).toContain('Starting six demo hosts on this machine (running v3)…');
      for (const address of ADDRESSES) {
        const health = await fetch(`http://${address}:8080/health`);
        expect(health.status).toBe(200);
        expect(await health.text()).toBe('ok v3\n');
      }
      const playbook = await readFile(join(base, 'local', 'playbooks', 'demo.yml'), 'utf8');
      for (const address of ADDRESSES) expect(playbook).toContain(`address: ${address},`);
      expect(demoHosts()).toHaveLength(6);
    } finally {
      // Also when a check failed: the next test needs the database and the ports.
      leave();
      code = await status;
    }
    expect(code).toBe(0);
    expect(printed.stdout).toContain('Stopped the demo hosts. Bye.');
    expect(demoHosts()).toEqual([]);
  });

  it('leave, saying why, when the data directory is removed under the console', async () => {
    const own = await mkdtemp(join(tmpdir(), 'baton-local-lost-'));
    const { io, printed, atPrompt, leave } = localConsole();
    try {
      const loaded = loadConfig({ BATON_DATA_DIR: own });
      if (!loaded.ok) throw new Error(loaded.problems.join('; '));
      const status = runLocalMode(loaded.config, io, { demoNetwork: NETWORK });
      await Promise.race([
        atPrompt,
        status.then((exited) => {
          throw new Error(
            `exited ${exited} before the prompt:\n${printed.stdout}${printed.stderr}`,
          );
        }),
      ]);
      await rm(join(own, 'local'), { recursive: true, force: true });
      // Nobody types quit: the console leaves on its own.
      expect(await status).toBe(1);
      expect(printed.stdout).toContain('was removed or replaced while this process held it');
      expect(printed.stdout).toContain('Stopped the demo hosts. Bye.');
      expect(demoHosts()).toEqual([]);
    } finally {
      leave();
      await rm(own, { recursive: true, force: true });
    }
  });

  it('are all stopped when the database is held by another process, which is said as before', async () => {
    held.push(DataDirLock.acquire(join(base, 'local', 'db'), 'baton worker'));
    const { io, printed } = localConsole();
    expect(await runLocalMode(config(), io, { demoNetwork: NETWORK })).toBe(6);
    expect(printed.stderr).toContain(`is in use by baton process ${process.pid}`);
    expect(printed.stdout).not.toContain('Starting six demo hosts');
    expect(demoHosts()).toEqual([]);
  });

  it('report a host that cannot start, stop the others and let go of the database', async () => {
    // Another program on demo-3's health port.
    const squatter = createServer();
    servers.push(squatter);
    await new Promise<void>((resolve) => squatter.listen(8080, ADDRESSES[2], resolve));
    const { io, printed } = localConsole();
    expect(await runLocalMode(config(), io, { demoNetwork: NETWORK })).toBe(4);
    expect(printed.stderr).toContain(
      `baton: demo host demo-3 (${ADDRESSES[2]}) stopped at start (exit 1): its ports are taken; is another baton in local mode running?`,
    );
    expect(printed.stdout).not.toContain('State and queue');
    expect(demoHosts()).toEqual([]);
    // The database was closed: the next process gets it.
    held.push(DataDirLock.acquire(join(base, 'local', 'db'), 'next'));
  });

  it('go when the baton that started them is killed with SIGKILL, when no exit handler runs', async () => {
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', holderScript, join(base, 'holder'), NETWORK, 'v1'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: holder.stdout }).once('line', () => resolve());
        void exited.then(() => reject(new Error('the holder exited before its fleet ran')));
      });
      expect(demoHosts()).toHaveLength(6);
    } finally {
      holder.kill('SIGKILL');
    }
    await exited;
    await until(() => demoHosts().length === 0, { ms: 10_000, what: 'every demo host gone' });
  });
});
