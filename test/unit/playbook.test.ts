import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  formatSourceProblem,
  parsePlaybookText,
  playbookJsonSchema,
  validatePlaybook,
  type Playbook,
} from '../../src/core/playbook/index.js';
import { aliasBomb } from '../support/playbooks.js';

const MINIMAL = `
service: web
steps:
  - { name: restart, run: systemctl restart web }
health:
  tcp: { port: 8080 }
environments:
  production:
    groups:
      - { name: all, hosts: [web-01] }
`;

function valid(text: string): Playbook {
  const result = parsePlaybookText(text, 'web.yml');
  if (!result.ok) throw new Error(result.problems.map(formatSourceProblem).join('\n'));
  return result.playbook;
}

function problems(text: string): string[] {
  const result = parsePlaybookText(text, 'bad.yml');
  if (result.ok) throw new Error('expected problems');
  return result.problems.map(formatSourceProblem);
}

describe('the shipped example playbooks', () => {
  it.each(['parser', 'billing-api'])('%s.yml is valid', (name) => {
    const text = readFileSync(new URL(`../../playbooks/${name}.yml`, import.meta.url), 'utf8');
    const result = parsePlaybookText(text, `${name}.yml`);
    expect(result.ok ? [] : result.problems.map(formatSourceProblem)).toEqual([]);
  });

  it('parser.yml reads as DESIGN describes it', () => {
    const playbook = valid(
      readFileSync(new URL('../../playbooks/parser.yml', import.meta.url), 'utf8'),
    );
    const production = playbook.environments.find(
      (environment) => environment.name === 'production',
    );
    expect(production?.groups.map((group) => group.name)).toEqual(['canary', 'a', 'b']);
    expect(production?.groups[2]?.hosts).toEqual([
      { name: 'parser-04.prod.internal:2200', address: 'parser-04.prod.internal', port: 2200 },
      { name: 'parser-05.prod.internal', address: 'parser-05.prod.internal', port: 22 },
    ]);
    expect(production?.approval).toEqual({
      required: true,
      approvers: ['@sre'],
      expiresMs: 1_800_000,
    });
    expect(playbook.health).toMatchObject({
      kind: 'http',
      intervalMs: 500,
      timeoutMs: 60_000,
      successes: 2,
    });
    expect(playbook.steps[0]).toEqual({
      name: 'install',
      run: '/opt/parser/bin/install {{version}}',
      timeoutMs: 120_000,
    });
  });
});

describe('defaults', () => {
  it('fills every optional key with its documented default', () => {
    const playbook = valid(MINIMAL);
    expect(playbook).toEqual({
      service: 'web',
      versionPattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
      defaultEnvironment: 'production',
      ssh: { user: 'deploy', port: 22 },
      steps: [{ name: 'restart', run: 'systemctl restart web', timeoutMs: 300_000 }],
      health: {
        kind: 'tcp',
        port: 8080,
        connectTimeoutMs: 2000,
        intervalMs: 1000,
        timeoutMs: 60_000,
        successes: 1,
      },
      skipCurrent: true,
      onFailure: 'rollback_group',
      environments: [
        {
          name: 'production',
          approval: { required: false, expiresMs: 1_800_000 },
          groups: [
            {
              name: 'all',
              hosts: [{ name: 'web-01', address: 'web-01', port: 22 }],
              parallel: 1,
              gate: 'auto',
            },
          ],
        },
      ],
    });
  });

  it('gives hosts without a port the playbook ssh port, and reads every host form', () => {
    const playbook = valid(
      MINIMAL.replace('service: web', 'service: web\nssh: { port: 2222 }').replace(
        'hosts: [web-01]',
        "hosts: [web-01, 'web-02:22', '[::1]:2200', 'fe80::2', '[fd00::3]', { address: 10.0.0.5, name: five }, { address: 10.0.0.6, port: 23 }, { address: '::4', port: 24 }]",
      ),
    );
    expect(playbook.environments[0]?.groups[0]?.hosts).toEqual([
      { name: 'web-01', address: 'web-01', port: 2222 },
      { name: 'web-02:22', address: 'web-02', port: 22 },
      { name: '[::1]:2200', address: '::1', port: 2200 },
      { name: 'fe80::2', address: 'fe80::2', port: 2222 },
      { name: '[fd00::3]', address: 'fd00::3', port: 2222 },
      { name: 'five', address: '10.0.0.5', port: 2222 },
      { name: '10.0.0.6:23', address: '10.0.0.6', port: 23 },
      { name: '[::4]:24', address: '::4', port: 24 },
    ]);
  });

  it.each([
    ["'[::1$(id)]:22'", /hosts\[0\]: a host is a hostname or IP/],
    ["'[:::]:22'", /hosts\[0\]: a host is a hostname or IP/],
    ["{ address: 'a:$(id)' }", /hosts\[0\]\.address: address must be a hostname or an IP address/],
    ["{ address: '[::1]' }", /hosts\[0\]\.address: address must be a hostname or an IP address/],
    ["'08'", /hosts\[0\]: a host is a hostname or IP/],
    ["'web.0:22'", /hosts\[0\]: a host is a hostname or IP/],
    ["'010.0.0.1'", /hosts\[0\]: a host is a hostname or IP/],
    ["{ address: 'db.0x1f' }", /hosts\[0\]\.address: address must be a hostname or an IP address/],
  ])('refuses the host %s', (host, expected) => {
    expect(problems(MINIMAL.replace('hosts: [web-01]', `hosts: [${host}]`)).join('\n')).toMatch(
      expected,
    );
  });
});

describe('placeholders in shell commands', () => {
  const withStep = (run: string) =>
    MINIMAL.replace(
      '{ name: restart, run: systemctl restart web }',
      `{ name: restart, run: ${JSON.stringify(run)} }`,
    );

  it.each<[string, string, string]>([
    ['install "{{version}}"', 'version', 'double quotes'],
    ["install '{{version}}'", 'version', 'single quotes'],
    ['echo "tag: {{ host }} ok"', 'host', 'double quotes'],
    ['echo "$(a "{{service}}")"', 'service', 'double quotes'],
    ["sh -c 'deploy {{environment}}'", 'environment', 'single quotes'],
  ])('refuses %s: a value could close the quotes and run as shell', (run, name, within) => {
    expect(problems(withStep(run))).toEqual([
      `bad.yml:4: steps[0].run: {{${name}}} is inside ${within}, which a value could close and then run as shell: write it bare (baton shell-quotes every placeholder itself), e.g. install {{${name}}} or --tag={{${name}}}`,
    ]);
  });

  it("refuses a placeholder right after a backslash, which would escape baton's own quote", () => {
    expect(problems(withStep('echo \\{{version}}')).join('\n')).toMatch(
      /steps\[0\]\.run: \{\{version\}\} follows a backslash, .*: remove the backslash/,
    );
  });

  it('checks verify and health commands too, and leaves URLs and body_contains alone', () => {
    const text = MINIMAL.replace(
      'tcp: { port: 8080 }',
      `command: { run: 'check "{{version}}"' }`,
    ).replace('hosts: [web-01] }', `hosts: [web-01], verify: { run: "verify '{{host}}'" } }`);
    expect(problems(text).join('\n')).toMatch(
      /health\.command\.run: \{\{version\}\} is inside double quotes/,
    );
    expect(problems(text).join('\n')).toMatch(
      /groups\[0\]\.verify\.run: \{\{host\}\} is inside single quotes/,
    );
    valid(
      MINIMAL.replace(
        'tcp: { port: 8080 }',
        `http: { url: 'http://{{host}}/h?v={{version}}', body_contains: '"{{version}}"' }`,
      ),
    );
  });

  it.each([
    'install {{version}}',
    'install --tag={{version}} "$HOME/x" \'lit\'',
    "printf '%s\\0' {{version}} {{host}}",
    'echo "$(install {{version}})" "`check {{host}}`"',
    'echo "a" {{version}} \'b\' {{host}} "c (d)" $(e (f) {{service}})',
    'echo \\"{{version}}\\"',
  ])('accepts %s, where every placeholder is a word of a command', (run) => {
    valid(withStep(run));
  });
});

describe('every problem, at once, with its path', () => {
  it('reports five different mistakes in one playbook, each with its path and line', () => {
    const text = `
service: parser
version_pattern: '^v(\\d+$'
stpes:
  - { name: install, run: 'install {{verison}}', timeout: 2 minutes }
health:
  http: { url: 'http://{{host}}/health' }
environments:
  production:
    groups:
      - name: a
        hosts: [web-01, 'web 02']
        parallel: 0
      - { name: a, hosts: [web-01] }
`;
    const found = problems(text);
    expect(found).toEqual([
      expect.stringMatching(/^bad\.yml:2: steps: 'steps' is required/),
      expect.stringMatching(/^bad\.yml:3: version_pattern: not a valid regular expression/),
      expect.stringMatching(/^bad\.yml:4: stpes: unknown key 'stpes' \(did you mean 'steps'\?\)/),
      expect.stringMatching(
        /^bad\.yml:12: environments\.production\.groups\[0\]\.hosts\[1\]: a host is a hostname or IP/,
      ),
      expect.stringMatching(
        /^bad\.yml:13: environments\.production\.groups\[0\]\.parallel: parallel must be at least 1/,
      ),
      expect.stringMatching(
        /^bad\.yml:14: environments\.production\.groups\[1\]\.name: group name 'a' is already used by groups\[0\]/,
      ),
      expect.stringMatching(
        /^bad\.yml:14: environments\.production\.groups\[1\]\.hosts\[0\]: host web-01:22 is listed twice \(also at environments\.production\.groups\[0\]\.hosts\[0\]\)/,
      ),
    ]);
  });

  it.each<[string, string, RegExp]>([
    [
      'a misspelt key deep inside, with the keys allowed there',
      MINIMAL.replace('hosts: [web-01] }', 'hosts: [web-01], paralel: 2 }'),
      /groups\[0\]\.paralel: unknown key 'paralel' \(did you mean 'parallel'\?\)/,
    ],
    [
      'a misspelt key in a health check',
      MINIMAL.replace('tcp: { port: 8080 }', 'tcp: { port: 8080, conect_timeout: 1s }'),
      /health\.tcp\.conect_timeout: unknown key 'conect_timeout' \(did you mean 'connect_timeout'\?\)/,
    ],
    [
      'a key that belongs elsewhere is not suggested where it is not allowed',
      MINIMAL.replace('service: web', 'service: web\nparalel: 2'),
      /paralel: unknown key 'paralel' \(remove it\)/,
    ],
    [
      'a service named after a verb',
      MINIMAL.replace('service: web', 'service: rollback'),
      /service: service may not be a word of the \/deploy grammar/,
    ],
    [
      'a service with capitals',
      MINIMAL.replace('service: web', 'service: Web'),
      /service: service must start with a lowercase letter/,
    ],
    [
      'an unanchored version pattern',
      MINIMAL.replace('service: web', "service: web\nversion_pattern: 'v\\d+'"),
      /version_pattern: anchor the pattern with \^ and \$/,
    ],
    [
      'a misspelt placeholder',
      MINIMAL.replace('systemctl restart web', "'deploy {{verison}}'"),
      /steps\[0\]\.run: unknown placeholder \{\{verison\}\}; did you mean \{\{version\}\}\?/,
    ],
    [
      'a duration without a unit',
      MINIMAL.replace('tcp: { port: 8080 }', 'tcp: { port: 8080 }\n  timeout: 60'),
      /health\.timeout: expected string, got number/,
    ],
    [
      'a duration out of range',
      MINIMAL.replace('tcp: { port: 8080 }', 'tcp: { port: 8080 }\n  timeout: 10h'),
      /health\.timeout: health timeout of 10h is out of range; use between 1s and 1h/,
    ],
    [
      'two health kinds',
      MINIMAL.replace(
        'tcp: { port: 8080 }',
        "tcp: { port: 8080 }\n  http: { url: 'http://{{host}}/' }",
      ),
      /health: give exactly one of http, tcp or command, not http and tcp/,
    ],
    [
      'no health kind',
      MINIMAL.replace('tcp: { port: 8080 }', 'interval: 1s'),
      /health: no health check/,
    ],
    [
      'an unknown failure policy',
      MINIMAL.replace('service: web', 'service: web\non_failure: retry'),
      /on_failure: must be one of: rollback_group, rollback_all, halt/,
    ],
    [
      'a default environment that does not exist',
      MINIMAL.replace('service: web', 'service: web\ndefault_environment: prod'),
      /default_environment: 'prod' is not one of the environments \(production\)/,
    ],
    [
      'several environments and no default',
      MINIMAL + '  staging:\n    groups: [{ name: all, hosts: [stg] }]\n',
      /default_environment: required when there are several environments/,
    ],
    [
      'an environment named after a keyword',
      MINIMAL.replace('  production:', '  to:'),
      /environments\.to: 'to' is not a usable environment name/,
    ],
    [
      'a bad deployer',
      MINIMAL.replace('  production:\n', '  production:\n    deployers: [alice]\n'),
      /deployers\[0\]: use a Slack user ID/,
    ],
    [
      'no approvers at all',
      MINIMAL.replace(
        '  production:\n',
        '  production:\n    approval: { required: true, approvers: [] }\n',
      ),
      /approval\.approvers: an empty list means nobody can approve/,
    ],
    [
      'a step name used twice',
      MINIMAL.replace(
        '  - { name: restart, run: systemctl restart web }',
        '  - { name: restart, run: a }\n  - { name: restart, run: b }',
      ),
      /steps\[1\]\.name: step name 'restart' is already used by steps\[0\]/,
    ],
    [
      'an empty groups list',
      MINIMAL.replace(/groups:\n.*\n/, 'groups: []\n'),
      /groups: an environment needs at least one group/,
    ],
    [
      'a hosts mapping instead of a list',
      MINIMAL.replace('hosts: [web-01]', 'hosts: { web-01: true }'),
      /hosts: expected array, got object \(write a YAML list/,
    ],
    [
      'a port out of range',
      MINIMAL.replace('hosts: [web-01]', "hosts: ['web-01:99999']"),
      /hosts\[0\]: a host is a hostname or IP/,
    ],
    [
      'a gate that is not a gate',
      MINIMAL.replace('hosts: [web-01] }', 'hosts: [web-01], gate: wait }'),
      /gate: must be one of: auto, manual/,
    ],
    ['a YAML syntax error', 'service: web\nsteps: [a\n', /^bad\.yml:\d+: \(top level\): YAML: /],
    ['a duplicate YAML key', MINIMAL + 'service: other\n', /YAML: Map keys must be unique/],
    ['an empty file', '', /the file is empty/],
    ['a list at the top', '- a\n- b\n', /\(top level\): expected object, got a list/],
    [
      'an alias bomb',
      aliasBomb('web'),
      /^bad\.yml: \(top level\): YAML: its aliases \(\*name\) expand it too far \(write/,
    ],
    ['an alias to no anchor', MINIMAL + 'extra: *nowhere\n', /YAML: Unresolved alias/],
  ])('%s', (_, text, expected) => {
    expect(problems(text).join('\n')).toMatch(expected);
  });

  it('says which service a file that fails was meant for, when it names one plainly', () => {
    const meantFor = (text: string) => {
      const result = parsePlaybookText(text, 'bad.yml');
      return result.ok ? 'valid' : result.service;
    };
    expect(meantFor(aliasBomb('search'))).toBe('search');
    expect(meantFor('service: web\nsteps: [a\n')).toBe('web');
    expect(meantFor(MINIMAL.replace('tcp: { port: 8080 }', 'tcp: {}'))).toBe('web');
    expect(meantFor('service: [web]\n')).toBeUndefined();
    expect(meantFor('x: &s web\nservice: *s\n')).toBeUndefined();
  });

  it('validates plain data without YAML, with the same messages', () => {
    const result = validatePlaybook({
      service: 'web',
      steps: [],
      health: { tcp: { port: 0 } },
      environments: {},
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((item) => `${item.path}: ${item.message}`)).toEqual([
      'steps: a playbook needs at least one step',
      expect.stringMatching(/^health\.tcp\.port: /),
      'environments: no environments',
    ]);
  });
});

describe('JSON Schema', () => {
  it('is generated from the zod schema and pinned', async () => {
    await expect(JSON.stringify(playbookJsonSchema(), null, 2)).toMatchFileSnapshot(
      '../../playbook.schema.json',
    );
  });

  it('lists every top-level key of the contract', () => {
    const schema = playbookJsonSchema() as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual([
      'service',
      'description',
      'version_pattern',
      'default_environment',
      'ssh',
      'steps',
      'before_host',
      'after_host',
      'health',
      'version',
      'skip_current',
      'on_failure',
      'environments',
    ]);
    expect(schema.required).toEqual(['service', 'steps', 'health', 'environments']);
  });
});
