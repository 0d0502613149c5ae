import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PlanSchema } from '../../src/core/rollout/index.js';
import { baton } from '../support/cli.js';
import { aliasBomb } from '../support/playbooks.js';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'baton-cli-'));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const FIVE_MISTAKES = `service: web
stpes:
  - { name: restart, run: systemctl restart web }
health:
  tcp: { port: 8080 }
  interval: fast
on_failure: retry
environments:
  production:
    groups:
      - { name: all, hosts: [web-01], parallel: 0 }
`;

describe('baton validate', () => {
  it('passes the shipped playbooks, which say who may deploy everywhere, even with --strict', async () => {
    for (const args of [
      ['validate', 'playbooks'],
      ['validate', 'playbooks', '--strict'],
    ])
      expect(await baton(args)).toEqual({
        status: 0,
        stdout: '2 playbooks valid: billing-api, parser\n',
        stderr: '',
      });
  });

  it('warns of an approval anyone but the requester may give, and --strict refuses both defaults', async () => {
    await writeFile(
      join(scratch, 'web.yml'),
      `service: web
steps:
  - { name: restart, run: systemctl restart web }
health:
  tcp: { port: 8080 }
environments:
  production:
    approval: { required: true }
    groups:
      - { name: all, hosts: [web-01] }
`,
    );
    const file = join(scratch, 'web.yml');
    const lenient = await baton(['validate', scratch]);
    expect(lenient.status).toBe(0);
    expect(lenient.stderr.split('\n').slice(0, 2)).toEqual([
      `${file}:8: environments.production.deployers: warning: not set, so anyone in the channel may deploy web to production (list who may, e.g. deployers: ['@deploy', U012ABCDEF])`,
      `${file}:8: environments.production.approval.approvers: warning: not set, so anyone but the requester may approve a deploy to production (list who may, e.g. approvers: ['@sre'])`,
    ]);
    const strict = await baton(['validate', '--strict', scratch]);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain(
      `${file}:8: environments.production.approval.approvers: not set, so anyone but the requester may approve`,
    );
    expect(strict.stderr).toContain('2 problems in 1 file; 0 playbooks valid.');
    expect(strict.stdout).toBe('');
  });

  it('reads BATON_PLAYBOOKS when no directory is given', async () => {
    await writeFile(join(scratch, 'web.yml'), FIVE_MISTAKES);
    const run = await baton(['validate'], { BATON_PLAYBOOKS: scratch });
    expect(run.status).toBe(1);
  });

  it('reports all five mistakes of a playbook, each with its path, and exits 1', async () => {
    await writeFile(join(scratch, 'web.yml'), FIVE_MISTAKES);
    const run = await baton(['validate', scratch]);
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    const file = join(scratch, 'web.yml');
    expect(lines).toEqual([
      `${file}:1: steps: 'steps' is required (array)`,
      `${file}:2: stpes: unknown key 'stpes' (did you mean 'steps'?)`,
      `${file}:6: health.interval: 'fast' is not a duration; write 90s, 30m, 2h, 500ms or 1h30m`,
      `${file}:7: on_failure: must be one of: rollback_group, rollback_all, halt`,
      `${file}:11: environments.production.groups[0].parallel: parallel must be at least 1`,
      '',
      '5 problems in 1 file; 0 playbooks valid.',
    ]);
  });

  it('reports a service defined twice, and keeps the first', async () => {
    const web = FIVE_MISTAKES.replace('stpes', 'steps')
      .replace('interval: fast', 'interval: 1s')
      .replace('on_failure: retry\n', '')
      .replace('parallel: 0', 'parallel: 1');
    await writeFile(join(scratch, 'a.yml'), web);
    await writeFile(join(scratch, 'b.yml'), web);
    const run = await baton(['validate', scratch]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `${join(scratch, 'b.yml')}: (file): service 'web' is already defined in ${join(scratch, 'a.yml')}`,
    );
  });

  it('reports a playbook it cannot read (an alias bomb) by its file name, and exits 1', async () => {
    await writeFile(join(scratch, 'bomb.yml'), aliasBomb('search'));
    await copyFile(join('playbooks', 'parser.yml'), join(scratch, 'parser.yml'));
    const run = await baton(['validate', scratch]);
    expect(run).toEqual({
      status: 1,
      stdout: '',
      stderr: `${join(scratch, 'bomb.yml')}: (top level): YAML: its aliases (*name) expand it too far (write the repeated parts out, or use fewer aliases)\n\n1 problem in 1 file; 1 playbook valid.\n`,
    });
  });

  it('says what is wrong with a missing or empty directory', async () => {
    expect((await baton(['validate', join(scratch, 'nope')])).stderr).toContain(
      'no such directory (set BATON_PLAYBOOKS or pass --playbooks DIR)',
    );
    expect((await baton(['validate', scratch])).stderr).toContain('no playbooks (*.yml) here');
  });
});

describe('baton schema', () => {
  it('prints the JSON Schema that ships as playbook.schema.json', async () => {
    const run = await baton(['schema']);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(
      JSON.parse(await readFile('playbook.schema.json', 'utf8')),
    );
  });
});

describe('baton plan', () => {
  it('prints a readable plan', async () => {
    const run = await baton(['plan', 'parser', 'v1.4', '--previous', 'v1.3']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^deploy parser to production: v1\.3 → v1\.4\n/);
    expect(run.stdout).toContain('3. b: 2 hosts, 1 at a time');
  });

  it('prints JSON that is a valid plan, for the environment asked for', async () => {
    const run = await baton(['plan', 'parser', 'v1.4', '--env', 'staging', '--json']);
    expect(run.status).toBe(0);
    const plan = PlanSchema.parse(JSON.parse(run.stdout));
    expect(plan).toMatchObject({
      environment: 'staging',
      version: 'v1.4',
      previousVersion: null,
      createdAt: Date.UTC(2026, 10, 29, 12),
    });
  });

  it("refuses 'v1.4; rm -rf /', naming the version pattern", async () => {
    const run = await baton(['plan', 'parser', 'v1.4; rm -rf /']);
    expect(run).toEqual({
      status: 2,
      stdout: '',
      stderr:
        "baton: The version 'v1.4; rm -rf /' does not match parser's version_pattern ^v\\d+\\.\\d+(\\.\\d+)?$.\n",
    });
  });

  it('names the file of a service whose playbook cannot be used, and plans the others', async () => {
    await writeFile(join(scratch, 'bomb.yml'), aliasBomb('search'));
    await copyFile(join('playbooks', 'parser.yml'), join(scratch, 'parser.yml'));
    const file = join(scratch, 'bomb.yml');
    expect(await baton(['plan', 'search', 'v1', '--playbooks', scratch])).toEqual({
      status: 2,
      stdout: '',
      stderr:
        `${file}: (top level): YAML: its aliases (*name) expand it too far (write the repeated parts out, or use fewer aliases)\n` +
        `baton: ${file} cannot be used: YAML: its aliases (*name) expand it too far (write the repeated parts out, or use fewer aliases). Fix it and run \`baton validate\`.\n`,
    });
    const other = await baton(['plan', 'parser', 'v1.4', '--playbooks', scratch]);
    expect(other.status).toBe(0);
    expect(other.stderr).toBe(
      `note: other playbooks in ${scratch} have problems; run \`baton validate ${scratch}\`.\n`,
    );
  });

  it('suggests the service that was meant', async () => {
    const run = await baton(['plan', 'parsr', 'v1.4']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      "baton: no valid playbook for 'parsr' in playbooks. Services: billing-api, parser. Did you mean 'parser'?\n",
    );
  });

  it('shows the problems of a playbook it cannot plan from', async () => {
    await writeFile(join(scratch, 'web.yml'), FIVE_MISTAKES);
    const run = await baton(['plan', 'web', 'v1', '--playbooks', scratch]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("stpes: unknown key 'stpes'");
    expect(run.stderr).toContain(
      `baton: ${join(scratch, 'web.yml')} cannot be used: line 1: steps: 'steps' is required (array) (and 4 more problems). Fix it and run \`baton validate\`.\n`,
    );
  });

  it('names an unknown environment and the ones that exist', async () => {
    const run = await baton(['plan', 'parser', 'v1.4', '--env', 'qa']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("baton: parser has no environment 'qa'; it has production, staging.\n");
  });
});

describe('bad input', () => {
  it('an unknown command exits 2 with a suggestion', async () => {
    const run = await baton(['valiate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown command 'valiate'");
    expect(run.stderr).toContain('(Did you mean validate?)');
  });

  it('a missing argument exits 2', async () => {
    expect((await baton(['plan', 'parser'])).status).toBe(2);
  });

  it('a bad environment is reported all at once before anything runs', async () => {
    const run = await baton(['validate'], {
      BATON_TIMEZONE: 'Mars/Base',
      REDIS_URL: 'http://x',
      SLACK_BOT_TOKEN: 'xoxp-1',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'baton: the environment is not valid:\n' +
        '  SLACK_BOT_TOKEN: a bot token starts with xoxb-\n' +
        '  REDIS_URL: must start with redis:// or rediss://\n' +
        '  BATON_TIMEZONE: must be an IANA time zone such as Europe/Berlin or UTC\n',
    );
  });

  it('a --grace that is not a duration is refused by worker and start alike, before connecting', async () => {
    const env = {
      REDIS_URL: 'redis://127.0.0.1:1',
      BATON_KNOWN_HOSTS: '/nonexistent',
      SLACK_BOT_TOKEN: 'xoxb-unused',
      SLACK_SIGNING_SECRET: 'unused',
    };
    for (const command of ['worker', 'start']) {
      const run = await baton([command, '--grace', 'soon'], env);
      expect(run.status).toBe(2);
      expect(run.stderr).toBe("baton: --grace 'soon' is not a duration; write e.g. 30s or 2m.\n");
    }
  });

  it('--help exits 0', async () => {
    const run = await baton(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('validate');
  });
});
