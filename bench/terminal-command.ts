// Times `baton status` on the embedded backend, from the command's start to its exit, run from
// the build (`dist/`) as an installed `baton` would be: opening the database itself (no baton
// running on the data), and answered by a running `baton worker` over the data directory's
// socket. Median of 5 each, in the same run. Alone: `npx tsx bench/terminal-command.ts`.
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, ensureBuilt, root } from './built.js';
import { median } from './floor.js';

const RUNS = 5;

function status(env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, 'status'], { env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(performance.now() - started)
        : reject(new Error(`baton status exited ${code}`)),
    );
  });
}

async function timed(env: NodeJS.ProcessEnv): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) times.push(await status(env));
  return median(times);
}

function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'worker'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('terminal commands on it are answered on')) resolve(child);
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('exit', (code) => reject(new Error(`baton worker exited ${code}:\n${output}`)));
  });
}

ensureBuilt();
const dir = await mkdtemp(join(tmpdir(), 'baton-bench-'));
try {
  await cp(join(root, 'playbooks'), join(dir, 'playbooks'), { recursive: true });
  await writeFile(join(dir, 'known_hosts'), '');
  const env = {
    ...process.env,
    REDIS_URL: undefined,
    BATON_DATA_DIR: join(dir, 'data'),
    BATON_PLAYBOOKS: join(dir, 'playbooks'),
    BATON_KNOWN_HOSTS: join(dir, 'known_hosts'),
  };
  await status(env); // creates the database: not what is measured
  const opening = await timed(env);
  const worker = await startWorker(env);
  const answered = await timed(env);
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  worker.kill('SIGTERM');
  await exited;
  process.stdout.write(
    `baton status on the embedded backend, median of ${RUNS}: opening the database itself ${Math.round(opening)} ms; answered by a running worker over its socket ${Math.round(answered)} ms (${(opening / answered).toFixed(1)}× faster)\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
