// `npm run bench` (sixth part), or alone: `npx tsx bench/whole-command.ts`. What a person waits
// for: the whole `baton deploy`, from the command's start to its exit, on real sshd hosts with a
// 500 ms spin-up, side by side with the floor (groups × (restart command + spin-up)) and a bash +
// ssh loop doing the same rolling restart (ControlMaster warm and cold). baton runs from the
// build (`dist/`, rebuilt here when a source is newer), as an installed `baton` would, in four
// situations: a standing `baton worker` on Redis, `baton deploy --worker` on Redis, the embedded
// default with its database already created, and a newcomer's first deploy (which creates it).
// Median of BENCH_RUNS (3) runs each. Then one more run of each situation, profiled (never one of
// the timed runs): where the time goes, from the processes' marks, CPU profiles and events.
// Prints figures; asserts nothing. BENCH_SIZES (20x4,60x6), BENCH_RUNS, BENCH_PROFILE=0 and
// BENCH_SITUATIONS (standing,withWorker,embedded,newcomer) change what runs; BENCH_KEEP_PROFILES=1
// keeps the profiled runs' CPU profiles (for `bench/profile-top.ts`) and prints where.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { SshExecutor } from '../src/adapters/ssh/ssh-executor.js';
import { Fleet } from '../test/fleet/fleet.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../test/support/redis.js';
import { bin, ensureBuilt, root } from './built.js';
import { measureFloor, median } from './floor.js';
import { readProfile, type Marks } from './profile.js';

const SIZES = (process.env.BENCH_SIZES ?? '20x4,60x6').split(',').map((size) => {
  const [hosts, groups] = size.split('x').map(Number);
  return { hosts: hosts ?? 20, groups: groups ?? 4 };
});
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PROFILE = process.env.BENCH_PROFILE !== '0';
const ONLY = process.env.BENCH_SITUATIONS?.split(',');
const KEEP_PROFILES = process.env.BENCH_KEEP_PROFILES === '1';
const SPINUP_MS = 500;

const cliModule = join(root, 'dist/src/cli.js');
const marksModule = join(root, 'bench/marks.mjs');
const bashRollout = join(root, 'bench/bash-rollout.sh');

type Situation = 'standing' | 'withWorker' | 'embedded' | 'newcomer';
const SITUATIONS: { key: Situation; label: string; short: string }[] = [
  { key: 'standing', label: 'standing `baton worker` on Redis', short: 'standing worker' },
  { key: 'withWorker', label: '`baton deploy --worker` on Redis', short: 'deploy --worker' },
  { key: 'embedded', label: 'embedded (database already created)', short: 'embedded' },
  { key: 'newcomer', label: "newcomer's first deploy (creates it)", short: 'newcomer' },
];

interface Spawned {
  status: number | null;
  stdout: string;
  stderr: string;
  startedAt: number;
  wallMs: number;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const started = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (status) =>
      resolve({ status, stdout, stderr, startedAt, wallMs: performance.now() - started }),
    );
  });
}

interface BatonEvent {
  type: string;
  at?: number;
  host?: string;
}

const eventsOf = (stdout: string): BatonEvent[] =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as BatonEvent);

/** First step started → last host healthy, from the worker's own event timestamps. */
function spanOf(events: BatonEvent[]): number {
  const at = (type: string) =>
    events.filter((event) => event.type === type).map((event) => event.at ?? NaN);
  return Math.max(...at('health.passed')) - Math.min(...at('step.started'));
}

/** A long-running `baton worker`, ready once its log (on stdout) says it takes rollouts. */
async function standingWorker(
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...nodeArgs, bin, 'worker'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('taking rollouts')) resolve();
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => reject(new Error(`baton worker exited ${code}:\n${log}`)));
  });
  return {
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Sample {
  wallMs: number;
  spanMs: number;
}

interface Profiled {
  spawnedAt: number;
  wallMs: number;
  events: BatonEvent[];
  deploy: { marks: Marks; profileDir: string };
  worker?: { marks: Marks; profileDir: string };
}

class Bench {
  private version = 1;
  private readonly prefix = testPrefix('bench-whole');
  private newcomerDir: string | undefined;
  private readonly scratch: string[] = [];

  constructor(
    private readonly fleet: Fleet,
    private readonly groups: string[],
  ) {}

  private next(): [string, string] {
    const previous = `v${this.version}`;
    this.version += 1;
    return [`v${this.version}`, previous];
  }

  async tempDir(name: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `baton-bench-${name}-`));
    this.scratch.push(dir);
    return dir;
  }

  env(situation: Situation, dataDir?: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.fleet.env() };
    delete env.REDIS_URL;
    if (situation === 'standing' || situation === 'withWorker') {
      env.REDIS_URL = REDIS_URL;
      env.BATON_REDIS_PREFIX = this.prefix;
    } else if (dataDir !== undefined) env.BATON_DATA_DIR = dataDir;
    return env;
  }

  async bash(controlDir: string | undefined): Promise<number> {
    const [version] = this.next();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BENCH_KEY: this.fleet.clientKeyPath,
      BENCH_KNOWN_HOSTS: this.fleet.knownHostsPath,
      BENCH_USER: userInfo().username,
      BENCH_FLEETCTL: this.fleet.fleetctl,
      BENCH_HEALTH_PORT: String(this.fleet.hosts[0]?.httpPort ?? 8080),
      ...(controlDir === undefined ? {} : { BENCH_CONTROL_DIR: controlDir }),
    };
    const done = await run('bash', [bashRollout, version, ...this.groups], env);
    if (done.status !== 0) throw new Error(`bash rollout failed:\n${done.stderr}`);
    return done.wallMs;
  }

  /** Opens (or closes) one ControlMaster connection per host under `dir`. */
  async masters(dir: string, action: 'open' | 'exit'): Promise<void> {
    await Promise.all(
      this.fleet.hosts.map(async (host) => {
        const args = [
          '-i',
          this.fleet.clientKeyPath,
          '-p',
          String(host.sshPort),
          '-o',
          'BatchMode=yes',
          '-o',
          `UserKnownHostsFile=${this.fleet.knownHostsPath}`,
          '-o',
          `ControlPath=${dir}/%h`,
          ...(action === 'open'
            ? ['-o', 'ControlMaster=yes', '-o', 'ControlPersist=yes', '-fN']
            : ['-O', 'exit']),
          `${userInfo().username}@${host.address}`,
        ];
        const done = await run('ssh', args, process.env);
        if (done.status !== 0 && action === 'open')
          throw new Error(`ssh master to ${host.address}: ${done.stderr}`);
      }),
    );
  }

  private async dataDir(situation: Situation): Promise<string | undefined> {
    if (situation === 'newcomer') {
      this.newcomerDir = await this.tempDir('newcomer');
      return this.newcomerDir;
    }
    if (situation === 'embedded') {
      // The database a newcomer's deploy created: the second deploy onwards.
      this.newcomerDir ??= await this.tempDir('embedded');
      return this.newcomerDir;
    }
    return undefined;
  }

  private async deploy(
    situation: Situation,
    dataDir: string | undefined,
    nodeArgs: string[] = [],
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<Spawned & { events: BatonEvent[] }> {
    const [version, previous] = this.next();
    const args = [
      ...nodeArgs,
      bin,
      'deploy',
      'fleet',
      version,
      '--env',
      'test',
      '--previous',
      previous,
      '--yes',
      '--json',
      ...(situation === 'withWorker' ? ['--worker'] : []),
    ];
    const done = await run(process.execPath, args, {
      ...this.env(situation, dataDir),
      ...extraEnv,
    });
    if (done.status !== 0)
      throw new Error(`${situation} deploy exited ${done.status}:\n${done.stdout}${done.stderr}`);
    return { ...done, events: eventsOf(done.stdout) };
  }

  async timed(situation: Situation): Promise<Sample[]> {
    const worker = situation === 'standing' ? await standingWorker(this.env(situation)) : undefined;
    try {
      const samples: Sample[] = [];
      for (let index = 0; index < RUNS; index++) {
        const done = await this.deploy(situation, await this.dataDir(situation));
        samples.push({ wallMs: done.wallMs, spanMs: spanOf(done.events) });
      }
      return samples;
    } finally {
      await worker?.stop();
    }
  }

  async profiled(situation: Situation): Promise<Profiled> {
    const traced = async (name: string) => {
      const dir = await this.tempDir(`profile-${name}`);
      return {
        dir,
        marksFile: join(dir, 'marks.json'),
        nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', marksModule],
      };
    };
    const markEnv = (marksFile: string) => ({
      BENCH_CLI_MODULE: cliModule,
      BENCH_MARKS_FILE: marksFile,
    });
    const workerTrace = situation === 'standing' ? await traced('worker') : undefined;
    const worker =
      workerTrace === undefined
        ? undefined
        : await standingWorker(
            { ...this.env(situation), ...markEnv(workerTrace.marksFile) },
            workerTrace.nodeArgs,
          );
    const deployTrace = await traced('deploy');
    let done: Spawned & { events: BatonEvent[] };
    try {
      done = await this.deploy(
        situation,
        await this.dataDir(situation),
        deployTrace.nodeArgs,
        markEnv(deployTrace.marksFile),
      );
    } finally {
      await worker?.stop();
    }
    const marks = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Marks;
    return {
      spawnedAt: done.startedAt,
      wallMs: done.wallMs,
      events: done.events,
      deploy: { marks: marks(deployTrace.marksFile), profileDir: deployTrace.dir },
      ...(workerTrace === undefined
        ? {}
        : { worker: { marks: marks(workerTrace.marksFile), profileDir: workerTrace.dir } }),
    };
  }

  async cleanUp(): Promise<void> {
    await dropPrefix(this.prefix);
    if (KEEP_PROFILES) console.log(`kept: ${this.scratch.join(' ')}`);
    else await Promise.all(this.scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

const MARKERS = [
  'openEmbeddedDatabase',
  'requestRollout',
  'startWorker',
  'processRolloutJob',
  'preflight',
  'followRollout',
  'checkpoint',
  'finishRollout',
];

function profileOf(process: { marks: Marks; profileDir: string }, tailFrom: number) {
  const file = readdirSync(process.profileDir).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no CPU profile in ${process.profileDir}`);
  return readProfile(join(process.profileDir, file), process.marks, MARKERS, tailFrom);
}

const ms = (value: number | undefined) =>
  value === undefined || Number.isNaN(value) ? '—' : `${Math.round(value)}`;

/** The profiled run's lines: read before its profile files are removed. */
function describeProfile(label: string, profiled: Profiled): string[] {
  const lines: string[] = [];
  const t0 = profiled.spawnedAt;
  const first = (type: string) => profiled.events.find((event) => event.type === type)?.at;
  const healthy = profiled.events.filter((event) => event.type === 'health.passed');
  const lastHealthy = healthy.at(-1)?.at ?? Infinity;
  const deploy = profileOf(profiled.deploy, lastHealthy);
  const worker =
    profiled.worker === undefined ? undefined : profileOf(profiled.worker, lastHealthy);
  const runner = worker ?? deploy;
  const marks = profiled.deploy.marks;
  const since = (at: number | undefined) => (at === undefined ? undefined : at - t0);
  const timeline: [string, number | undefined][] = [
    ['node booted (process start)', since(marks.booted)],
    ["baton's modules loaded", since(marks.loaded)],
    ['opening the embedded database', since(deploy.firstSeen.get('openEmbeddedDatabase'))],
    ['request checked (backend open)', since(deploy.firstSeen.get('requestRollout'))],
    ['worker started here', since(deploy.firstSeen.get('startWorker'))],
    ['job picked up by the worker', since(runner.firstSeen.get('processRolloutJob'))],
    ['pre-flight connecting', since(runner.firstSeen.get('preflight'))],
    ['rollout started (pre-flight done)', since(first('rollout.started'))],
    ['first step', since(first('step.started'))],
    ['last host healthy', since(healthy.at(-1)?.at)],
    ['rollout completed', since(first('rollout.completed'))],
    ['rollout recorded (history, lock)', since(runner.lastSeen.get('finishRollout'))],
    ['process exiting', since(marks.exiting)],
    ['exit seen', profiled.wallMs],
  ];
  const loaded = Object.entries(marks.packages).sort((a, b) => b[1] - a[1]);
  const files = loaded.reduce((sum, [, count]) => sum + count, 0);
  lines.push(`  ${label} (profiled run, ms since the command started):`);
  lines.push(`    ${timeline.map(([what, at]) => `${what} ${ms(at)}`).join(' · ')}`);
  const cpu = (summary: typeof deploy, who: string) => {
    const total = [...summary.cpu.values()].reduce((sum, value) => sum + value, 0);
    const parts = [...summary.cpu.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([where, value]) => `${where} ${ms(value)}`);
    const inside = [...summary.within.entries()].map(([name, value]) => `${name} ${ms(value)}`);
    lines.push(`    CPU of the ${who}: ${ms(total)} ms: ${parts.join(', ')}`);
    lines.push(`      of which inside: ${inside.join(', ')}`);
    const tail = [...summary.tail.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([where, value]) => `${where} ${ms(value)}`);
    lines.push(`      after the last host was healthy (ms, idle included): ${tail.join(', ')}`);
  };
  lines.push(
    `    modules: ${files} CommonJS files loaded with the command module (ES modules not counted), from ${loaded.length} packages, most from ${loaded
      .slice(0, 8)
      .map(([name, count]) => `${name} ${count}`)
      .join(', ')}`,
  );
  cpu(deploy, 'deploy process');
  if (worker !== undefined)
    cpu(worker, 'standing worker (started for this run, its start-up included)');
  return lines;
}

ensureBuilt();
const results: {
  size: string;
  floorMs: number;
  commandMs: number;
  spinupMs: number;
  warm: number[];
  cold: number[];
  baton: Map<Situation, Sample[]>;
  profiles: Map<Situation, string[]>;
}[] = [];
for (const [index, size] of SIZES.entries()) {
  const fleet = await Fleet.start({ hosts: size.hosts, subnet: 203 + index, spinupMs: SPINUP_MS });
  const perGroup = size.hosts / size.groups;
  const groups = Array.from({ length: size.groups }, (_, g) =>
    Array.from({ length: perGroup }, (__, i) => g * perGroup + i),
  );
  const bench = new Bench(
    fleet,
    groups.map((group) => group.map((host) => fleet.hosts[host]?.address).join(',')),
  );
  try {
    await fleet.writePlaybook({
      groups: groups.map((hosts) => ({ hosts, parallel: perGroup })),
      steps: 'restart',
      healthInterval: '500ms',
    });
    const executor = new SshExecutor({
      knownHostsPath: fleet.knownHostsPath,
      privateKeyPath: fleet.clientKeyPath,
    });
    const floor = await measureFloor(fleet, executor, size.groups, 'floor');
    await executor.close();

    const controlDir = await bench.tempDir('ssh');
    await bench.masters(controlDir, 'open');
    const warm: number[] = [];
    try {
      for (let i = 0; i < RUNS; i++) warm.push(await bench.bash(controlDir));
    } finally {
      await bench.masters(controlDir, 'exit');
    }
    const cold: number[] = [];
    for (let i = 0; i < RUNS; i++) cold.push(await bench.bash(undefined));

    const baton = new Map<Situation, Sample[]>();
    const profiles = new Map<Situation, string[]>();
    // The newcomer first: its last database is the one the embedded runs then find created.
    for (const situation of ['standing', 'withWorker', 'newcomer', 'embedded'] as const) {
      if (ONLY !== undefined && !ONLY.includes(situation)) continue;
      baton.set(situation, await bench.timed(situation));
      if (PROFILE) {
        const label = SITUATIONS.find((known) => known.key === situation)?.label ?? situation;
        const profiled = await bench.profiled(situation);
        try {
          profiles.set(situation, describeProfile(label, profiled));
        } catch (error) {
          profiles.set(situation, [`  ${label}: profile not read: ${(error as Error).message}`]);
        }
      }
    }
    results.push({
      size: `${size.hosts} hosts / ${size.groups} groups`,
      ...floor,
      warm,
      cold,
      baton,
      profiles,
    });
  } finally {
    await bench.cleanUp();
    await fleet.stop();
  }
}

const cell = (values: number[], floorMs: number) =>
  values.length === 0
    ? '     — (not run)'
    : `${ms(median(values)).padStart(6)} ms ${(median(values) / floorMs).toFixed(2)}×`;
const runsOf = (values: number[]) => values.map((value) => ms(value)).join(', ');
const row = (label: string, cells: string[]) =>
  console.log(`${label.padEnd(48)} ${cells.map((text) => text.padEnd(20)).join(' ')}`);
console.log(
  `\nthe whole command: rolling restart with ${SPINUP_MS} ms spin-up, parallel = group size, median of ${RUNS} (ratio to the floor)`,
);
row(
  '',
  results.map((result) => result.size),
);
row(
  'floor: groups × (restart command + spin-up)',
  results.map((r) => `${ms(r.floorMs).padStart(6)} ms 1.00×`),
);
row(
  'bash + ssh, ControlMaster warm',
  results.map((r) => cell(r.warm, r.floorMs)),
);
row(
  'bash + ssh, cold',
  results.map((r) => cell(r.cold, r.floorMs)),
);
for (const { key, short } of SITUATIONS) {
  row(
    `baton span (first step → last healthy), ${short}`,
    results.map((r) =>
      cell(
        (r.baton.get(key) ?? []).map((s) => s.spanMs),
        r.floorMs,
      ),
    ),
  );
}
for (const { key, label } of SITUATIONS) {
  row(
    `baton deploy wall: ${label}`,
    results.map((r) =>
      cell(
        (r.baton.get(key) ?? []).map((s) => s.wallMs),
        r.floorMs,
      ),
    ),
  );
}
for (const r of results) {
  console.log(
    `${r.size}: restart command ${ms(r.commandMs)} ms, spin-up seen ${ms(r.spinupMs)} ms; runs: bash warm ${runsOf(r.warm)}; bash cold ${runsOf(r.cold)}; ` +
      SITUATIONS.map(
        ({ key }) =>
          `${key} ${runsOf((r.baton.get(key) ?? []).map((s) => s.wallMs))} (spans ${runsOf((r.baton.get(key) ?? []).map((s) => s.spanMs))})`,
      ).join('; '),
  );
}
if (PROFILE) {
  for (const r of results) {
    console.log(`\nwhere the time goes, ${r.size}:`);
    for (const { key } of SITUATIONS) {
      for (const line of r.profiles.get(key) ?? []) console.log(line);
    }
  }
}
