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

const GROUPS = [
  { name: 'canary', hosts: [1], parallel: 1 },
  { name: 'a', hosts: [2, 3], parallel: 2 },
  { name: 'b', hosts: [4, 5, 6], parallel: 2 },
];

/**
 * Six demo hosts on loopback (127.77.0.11–16), each a real process with a /health endpoint and a
 * spin-up delay, and the playbook that deploys to them. Every process is stopped by PID, also
 * when baton exits without stopping the fleet.
 */
export class DemoFleet {
  readonly hosts: DemoHost[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly killAll = () => {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
  };

  private constructor(readonly playbooksDir: string) {}

  static async start(
    dataDir: string,
    { spinupMs = 800, version = 'v1' }: { spinupMs?: number; version?: string } = {},
  ): Promise<DemoFleet> {
    const fleet = new DemoFleet(join(dataDir, 'playbooks'));
    process.once('exit', fleet.killAll);
    const root = packageRoot();
    try {
      await Promise.all(
        GROUPS.flatMap((group) => group.hosts).map((index) =>
          fleet.startHost(root, `demo-${index}`, `127.77.0.${10 + index}`, spinupMs, version),
        ),
      );
      fleet.hosts.sort((a, b) => a.name.localeCompare(b.name));
      await fleet.writePlaybook(root);
      return fleet;
    } catch (error) {
      await fleet.stop();
      throw error;
    }
  }

  private startHost(
    root: string,
    name: string,
    address: string,
    spinupMs: number,
    version: string,
  ): Promise<void> {
    const child = spawn(
      process.execPath,
      [
        join(root, 'demo', 'host.mjs'),
        `--address=${address}`,
        `--spinup=${spinupMs}`,
        `--version=${version}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.children.push(child);
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.stdout?.once('data', () => {
        this.hosts.push({ name, address });
        resolve();
      });
      child.once('exit', (code) =>
        reject(
          new Error(
            `demo host ${name} (${address}) stopped at start (exit ${code}): ${errors.includes('EADDRINUSE') ? 'its ports are taken; is another baton in local mode running?' : errors.trim()}`,
          ),
        ),
      );
    });
  }

  private async writePlaybook(root: string): Promise<void> {
    const ctl = (action: string) =>
      JSON.stringify(
        `"${process.execPath}" "${join(root, 'demo', 'ctl.mjs')}" ${action} {{version}}`,
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
          (index) => `{ address: 127.77.0.${10 + index}, name: demo-${index} }`,
        );
        return `      - { name: ${group.name}, hosts: [${hosts.join(', ')}], parallel: ${group.parallel} }`;
      }),
    ].join('\n');
    await mkdir(this.playbooksDir, { recursive: true });
    await writeFile(join(this.playbooksDir, 'demo.yml'), `${yaml}\n`);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    process.off('exit', this.killAll);
  }
}
