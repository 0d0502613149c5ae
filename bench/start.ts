// `npm run bench`: how long a newcomer waits for the local-mode prompt after `npm start`, on the
// first start and on a second one, in a fresh clone of this repository (its last commit) with its
// own `npm ci` and data directory, in a pseudo-terminal as a person's terminal is. Prints figures;
// asserts nothing.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repository = fileURLToPath(new URL('..', import.meta.url));
/** What local mode prints on its way to the prompt, in order: each line ends a phase. */
const MARKS = {
  opening: 'Opening the embedded database',
  demoHosts: 'Starting six demo hosts',
  stateAndQueue: 'State and queue:',
  prompt: 'baton>',
} as const;
type Mark = keyof typeof MARKS;

/** A person's environment: no Slack or Redis settings, nothing `npm run bench` itself set. */
const personal = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !name.startsWith('SLACK_') && name !== 'REDIS_URL' && !name.startsWith('npm_'),
  ),
);

function run(command: string, args: string[], cwd: string): number {
  const started = performance.now();
  const done = spawnSync(command, args, { cwd, env: personal, encoding: 'utf8' });
  if (done.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed:\n${done.stdout}${done.stderr}`);
  return performance.now() - started;
}

/**
 * Runs `shellCommand` in a pseudo-terminal (through `script`) until the prompt, notes when each
 * mark was first printed (ms since the start), then types `quit` and waits for the exit.
 */
async function toPrompt(
  shellCommand: string,
  cwd: string,
  dataDir: string,
): Promise<Record<Mark, number>> {
  const env = { ...personal, BATON_DATA_DIR: dataDir };
  const started = performance.now();
  const child = spawn('script', ['-qfec', shellCommand, '/dev/null'], {
    cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const seen: Partial<Record<Mark, number>> = {};
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const screen = output.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
      for (const [mark, text] of Object.entries(MARKS) as [Mark, string][])
        if (seen[mark] === undefined && screen.includes(text))
          seen[mark] = performance.now() - started;
      if (seen.prompt !== undefined) resolve();
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    void exited.then(() => reject(new Error(`exited before the prompt:\n${output}`)));
  });
  child.stdin.write('quit\r');
  const code = await exited;
  if (code !== 0) throw new Error(`exited ${code} after quit:\n${output}`);
  return seen as Record<Mark, number>;
}

const phases = (at: Record<Mark, number>): string =>
  `to "Opening the embedded database" ${at.opening.toFixed(0)} ms, database open (the demo hosts boot beside it) +${(at.demoHosts - at.opening).toFixed(0)}, demo hosts on their version +${(at.stateAndQueue - at.demoHosts).toFixed(0)}, worker and console +${(at.prompt - at.stateAndQueue).toFixed(0)}`;

const dir = await mkdtemp(join(tmpdir(), 'baton-bench-start-'));
try {
  const clone = join(dir, 'clone');
  const dataDir = join(dir, 'data');
  run('git', ['clone', '--quiet', repository, clone], dir);
  const install = run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], clone);
  const first = await toPrompt('npm start', clone, dataDir);
  const second = await toPrompt('npm start', clone, dataDir);
  // The same start without npm and the build in front, to tell those apart from baton's own.
  const direct = await toPrompt('node dist/src/bin.js start', clone, dataDir);
  const build = run('npm', ['run', 'build', '--silent'], clone);
  console.log(
    `npm start to the local-mode prompt, in a fresh clone (npm ci ${(install / 1000).toFixed(1)} s):\n` +
      `  first start (builds, creates the database): ${(first.prompt / 1000).toFixed(2)} s; ${phases(first)}\n` +
      `  second start: ${(second.prompt / 1000).toFixed(2)} s (target ≤ 3 s); ${phases(second)}\n` +
      `  of which npm and the build: \`npm run build --silent\` alone on the unchanged tree ${build.toFixed(0)} ms; \`node dist/src/bin.js start\` without npm: ${(direct.prompt / 1000).toFixed(2)} s, ${phases(direct)}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
