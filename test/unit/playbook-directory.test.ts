import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPlaybookDirectory } from '../../src/adapters/playbooks/playbook-directory.js';
import { handleCommand } from '../../src/app/chatops/handle-command.js';
import { fireScheduledRollback } from '../../src/app/use-cases/fire-scheduled-rollback.js';
import { playbookSource } from '../../src/main.js';
import { ChatWorld } from '../support/chat-world.js';
import { aliasBomb } from '../support/playbooks.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-playbooks-'));
  for (const name of ['parser.yml', 'billing-api.yml'])
    await copyFile(join('playbooks', name), join(dir, name));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeBrokenFiles(): Promise<void> {
  await writeFile(join(dir, 'bomb.yml'), aliasBomb('search'));
  await writeFile(join(dir, 'web.yml'), 'service: web\nsteps: [unclosed\n');
  await writeFile(join(dir, 'huge.yml'), `service: huge\n# ${'x'.repeat(1024 * 1024)}\n`);
  await mkdir(join(dir, 'folder.yml'));
}

describe('a playbook that cannot be read is that file’s problem', () => {
  it('loads the other playbooks, and reports each broken file by name and by its service', async () => {
    await writeBrokenFiles();
    const catalog = await loadPlaybookDirectory(dir);
    expect([...catalog.playbooks.keys()].sort()).toEqual(['billing-api', 'parser']);
    const why = (service: string) => {
      const unusable = catalog.unusable.get(service);
      return { source: unusable?.source, messages: unusable?.problems.map((p) => p.message) };
    };
    expect(why('search')).toEqual({
      source: join(dir, 'bomb.yml'),
      messages: ['YAML: its aliases (*name) expand it too far'],
    });
    expect(why('web')).toEqual({
      source: join(dir, 'web.yml'),
      messages: [expect.stringMatching(/^YAML: Flow sequence/)],
    });
    // Too big to read: known by its file name.
    expect(why('huge')).toEqual({
      source: join(dir, 'huge.yml'),
      messages: ['the file is 1025 KiB; a playbook may be at most 1024 KiB'],
    });
    expect(why('folder')).toEqual({
      source: join(dir, 'folder.yml'),
      messages: ['cannot read: EISDIR'],
    });
    expect(new Set(catalog.problems.map((problem) => problem.source))).toEqual(
      new Set(['bomb.yml', 'web.yml', 'huge.yml', 'folder.yml'].map((name) => join(dir, name))),
    );
  });

  it('keeps a scheduled rollback of the broken service from failing its firer: it is skipped, saying which file', async () => {
    await writeBrokenFiles();
    const world = new ChatWorld(playbookSource(dir));
    expect(
      await fireScheduledRollback(
        world.deps,
        {
          id: 'r1',
          service: 'search',
          environment: 'production',
          runAt: world.clock.now(),
          requestedBy: 'UALICE',
          reason: 'scheduled',
        },
        'worker-1',
      ),
    ).toEqual({ skipped: expect.stringContaining(`${join(dir, 'bomb.yml')} cannot be used`) });
    expect(world.history.audit).toMatchObject([
      { action: 'schedule.skipped', detail: { why: expect.stringContaining('bomb.yml') } },
    ]);
  });

  it('answers /deploy for the broken service with its file and why, and serves the others', async () => {
    await writeBrokenFiles();
    const world = new ChatWorld(playbookSource(dir));
    const broken = world.from('UALICE');
    const other = world.from('UALICE');
    await handleCommand(world.front, 'search v2', broken);
    await handleCommand(world.front, 'history parser', other);
    await world.deliver();
    expect(world.replyTo(broken)?.text).toBe(
      `${join(dir, 'bomb.yml')} cannot be used: YAML: its aliases (*name) expand it too far (write the repeated parts out, or use fewer aliases). Fix it and run \`baton validate\`.`,
    );
    expect(world.replyTo(other)?.text).toBe('No rollouts of parser in production yet.');
  });
});
