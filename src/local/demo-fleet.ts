import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding package.json and demo/, from wherever this file was loaded (src or dist). */
export function packageRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'demo', 'host.mjs'))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error('cannot find demo/host.mjs above this file');
    directory = parent;
  }
  return directory;
}

export interface DemoHost {
  name: string;
  address: string;
}

/** Where the demo hosts listen: `${network}.11` to `.16`. */
export const DEMO_NETWORK = '127.77.0';

const GROUPS = [
  { name: 'canary', hosts: [1], parallel: 1 },
  { name: 'a', hosts: [2, 3], parallel: 2 },
  { name: 'b', hosts: [4, 5, 6], parallel: 2 },
];

/** A host process spawned and not yet known to be serving. */
interface Spawned {
  host: DemoHost;
  child: ChildProcess;
  /** Resolves when the host serves on the version it was told; rejects when it exits first. */
  serving: Promise<void>;
}

/**
 * Six demo hosts on loopback (127.77.0.11–16 unless told another network), each a real process
 * with a /health endpoint and a spin-up delay, and the playbook that deploys to them. The
 * processes are spawned first and told their version later (`run`), so that they boot while baton
 * opens the database whose history says which version they run. Every process is stopped by PID,
 * also when baton exits without stopping the fleet; one whose baton ended without exiting
 * (SIGKILL) sees its stdin end and goes.
 */
export class DemoFleet {
  readonly hosts: DemoHost[] = [];
  private readonly spawned: Spawned[] = [];
  private readonly killAll = () => {
    for (const { child } of this.spawned) if (child.exitCode === null) child.kill('SIGKILL');
  };

  private constructor(
    readonly playbooksDir: string,
    private readonly root: string,
    private readonly network: string,
  ) {}

  /** Spawns every host process at once; none serves until `run` tells it its version. */
  static spawn(
    dataDir: string,
    { spinupMs = 800, network = DEMO_NETWORK }: { spinupMs?: number; network?: string } = {},
  ): DemoFleet {
    const fleet = new DemoFleet(join(dataDir, 'playbooks'), packageRoot(), network);
    process.once('exit', fleet.killAll);
    for (const index of GROUPS.flatMap((group) => group.hosts))
      fleet.spawnHost({ name: `demo-${index}`, address: fleet.address(index) }, spinupMs);
    return fleet;
  }

  private address(index: number): string {
    return `${this.network}.${10 + index}`;
  }

  /**
   * Tells every host the version it runs, and resolves once all of them serve it and the
   * playbook is written. When a host cannot start, every host is stopped and the error says why.
   */
  async run(version: string): Promise<void> {
    try {
      await Promise.all(
        this.spawned.map(({ child, serving }) => {
          child.stdin?.write(`${version}\n`);
          return serving;
        }),
      );
      this.hosts.push(...this.spawned.map(({ host }) => host));
      this.hosts.sort((a, b) => a.name.localeCompare(b.name));
      await this.writePlaybook();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private spawnHost(host: DemoHost, spinupMs: number): void {
    const child = spawn(
      process.execPath,
      [join(this.root, 'demo', 'host.mjs'), `--address=${host.address}`, `--spinup=${spinupMs}`],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    // A host that died before it read its version is reported by its exit, not by this write.
    child.stdin?.on('error', () => {});
    const serving = new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('error', (error) =>
        reject(
          new Error(
            `demo host ${host.name} (${host.address}) could not be started: ${error.message}`,
          ),
        ),
      );
      child.once('exit', (code) =>
        reject(
          new Error(
            `demo host ${host.name} (${host.address}) stopped at start (exit ${code}): ${errors.includes('EADDRINUSE') ? 'its ports are taken; is another baton in local mode running?' : errors.trim()}`,
          ),
        ),
      );
    });
    // Awaited by `run`; a fleet stopped before it ran (the database would not open) must not
    // leave its hosts' exits as unhandled rejections.
    serving.catch(() => {});
    this.spawned.push({ host, child, serving });
  }

  private async writePlaybook(): Promise<void> {
    const ctl = (action: string) =>
      JSON.stringify(
        `"${process.execPath}" "${join(this.root, 'demo', 'ctl.mjs')}" ${action} {{version}}`,
      );
    const yaml = [
      '# Written by baton in local mode for its demo hosts; rewritten at every start.',
      'service: demo',
      'description: Six demo hosts on this machine',
      "version_pattern: '^v\\d+(\\.\\d+)*(-[a-z]+)?$'",
      'default_environment: production',
      'steps:',
      `  - { name: install, run: ${ctl('install')}, timeout: 30s }`,
      `  - { name: restart, run: ${ctl('restart')}, timeout: 30s }`,
      'health:',
      "  http: { url: 'http://{{host}}:8080/health', body_contains: 'ok {{version}}' }",
      '  interval: 500ms',
      '  timeout: 10s',
      'on_failure: rollback_group',
      'environments:',
      '  production:',
      '    approval: { required: true, expires: 10m }',
      '    groups:',
      ...GROUPS.map((group) => {
        const hosts = group.hosts.map(
          (index) => `{ address: ${this.address(index)}, name: demo-${index} }`,
        );
        return `      - { name: ${group.name}, hosts: [${hosts.join(', ')}], parallel: ${group.parallel} }`;
      }),
    ].join('\n');
    await mkdir(this.playbooksDir, { recursive: true });
    await writeFile(join(this.playbooksDir, 'demo.yml'), `${yaml}\n`);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.spawned.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            // No pid: it was never started.
            if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
              return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    process.off('exit', this.killAll);
  }
}
