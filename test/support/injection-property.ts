import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { parseCommand } from '../../src/core/command/index.js';
import { quoteToken } from '../../src/core/command/tokenize.js';
import type { Command } from '../../src/core/command/types.js';
import { validatePlaybook } from '../../src/core/playbook/index.js';
import { planRollout, type HostProcedure } from '../../src/core/rollout/index.js';
import { renderTemplate } from '../../src/core/template.js';
import { nulTerminated, type PosixShell } from './posix-shell.js';

/**
 * The property behind the command-injection fuzz (test/unit/command-injection.test.ts and
 * `npm run fuzz`): strings a person could type or a playbook could hold go through the grammar,
 * the playbook validator and the planner, and every command that would run is handed to a real
 * POSIX shell, which must see exactly the intended words. Refusing an input is always allowed.
 */

export interface InjectionInput {
  service: string;
  environment: string;
  version: string;
  previous: string | null;
  reason: string;
  host: { address: string; port?: number; form: 'text' | 'object' };
  /** As Slack's text: each value quoted as the grammar reads it, or words joined by spaces. */
  typing: 'quoted' | 'plain';
  health: 'http' | 'command';
  /** How the playbook's author wrote the placeholders of its first step. */
  placeholders: 'bare' | 'double quotes' | 'single quotes' | 'backslash';
}

export type Outcome = 'grammar refused' | 'playbook refused' | 'planner refused' | 'ran';

const PIECES = [
  '$(id)',
  '`id`',
  '${IFS}',
  ';',
  '&&',
  '|',
  "'",
  '"',
  '\\',
  ' ',
  '\n',
  '\t',
  '*',
  '?',
  '[',
  ']',
  '{',
  '}',
  '~',
  '#',
  '<',
  '>',
  '&',
  '!',
  '$',
  '=',
  '%',
  '-',
  '--',
  '..',
  '/',
  ':',
  '@',
  '<@U123ABC>',
  '<!here>',
  '<http://evil.example|v1>',
  '\u201c',
  '\u2019',
  'to',
  '--dry-run',
  'é',
  '\u{1F4A5}',
];
const hostile = fc
  .array(fc.oneof(fc.constantFrom(...PIECES), fc.stringMatching(/^[a-z0-9.]{1,4}$/)), {
    minLength: 1,
    maxLength: 6,
  })
  .map((parts) => parts.join(''));
const anyText = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 24 })
  .filter((text) => !text.includes('\0'));
const name = fc.oneof(
  { weight: 16, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/) },
  { weight: 1, arbitrary: hostile },
  { weight: 1, arbitrary: anyText },
);
const version = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+:~@-]{0,15}$/) },
  { weight: 2, arbitrary: hostile },
  { weight: 1, arbitrary: fc.tuple(fc.constant('v1.2'), hostile).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: anyText },
);
const address = fc.oneof(
  { weight: 5, arbitrary: fc.domain() },
  { weight: 3, arbitrary: fc.ipV4() },
  { weight: 5, arbitrary: fc.ipV6() },
  { weight: 1, arbitrary: hostile },
  { weight: 1, arbitrary: fc.tuple(fc.ipV6(), hostile).map(([a, b]) => a + b) },
);

export const injectionInput: fc.Arbitrary<InjectionInput> = fc.record({
  service: name,
  environment: name,
  version,
  previous: fc.option(version, { nil: null }),
  reason: fc.oneof(hostile, anyText),
  host: fc.record(
    {
      address,
      port: fc.integer({ min: 1, max: 65_535 }),
      form: fc.constantFrom('text' as const, 'object' as const),
    },
    { requiredKeys: ['address', 'form'] },
  ),
  typing: fc.constantFrom('quoted' as const, 'plain' as const),
  health: fc.constantFrom('http' as const, 'command' as const),
  placeholders: fc.oneof(
    { weight: 6, arbitrary: fc.constant('bare' as const) },
    { weight: 1, arbitrary: fc.constant('double quotes' as const) },
    { weight: 1, arbitrary: fc.constant('single quotes' as const) },
    { weight: 1, arbitrary: fc.constant('backslash' as const) },
  ),
});

const WRITTEN: Record<InjectionInput['placeholders'], (placeholder: string) => string> = {
  bare: (placeholder) => placeholder,
  'double quotes': (placeholder) => `"${placeholder}"`,
  'single quotes': (placeholder) => `'${placeholder}'`,
  backslash: (placeholder) => `\\${placeholder}`,
};

function hostEntry(host: InjectionInput['host']): unknown {
  if (host.form === 'object')
    return host.port === undefined
      ? { address: host.address }
      : { address: host.address, port: host.port };
  if (host.port === undefined) return host.address;
  return host.address.includes(':')
    ? `[${host.address}]:${host.port}`
    : `${host.address}:${host.port}`;
}

/**
 * A playbook as its author could write it, every placeholder meant as a word of its own, in
 * several positions; the first step's placeholders are sometimes (wrongly) quoted.
 */
function playbookDocument(input: InjectionInput): Record<string, unknown> {
  const written = ['version', 'previous_version', 'host', 'service', 'environment']
    .map((name) => WRITTEN[input.placeholders](`{{${name}}}`))
    .join(' ');
  return {
    service: input.service,
    version_pattern: '^[\\s\\S]+$',
    steps: [
      {
        name: 'words',
        run: `printf '%s\\0' ${written}`,
      },
      {
        name: 'joined',
        run: `printf '%s\\0' --tag={{version}}@{{host}} "$(printf %s {{service}})"`,
      },
    ],
    health:
      input.health === 'http'
        ? { http: { url: 'http://{{host}}:8080/health?v={{version}}&s={{service}}' } }
        : { command: { run: "printf '%s\\0' {{host}} {{version}}" } },
    environments: {
      [input.environment]: {
        groups: [
          {
            name: 'all',
            hosts: [hostEntry(input.host)],
            verify: { run: "printf '%s\\0' {{environment}}{{version}}" },
          },
        ],
      },
    },
  };
}

const CONTEXT = { now: 1_700_000_000_000, timeZone: 'UTC' };

function fail(message: string): never {
  throw new Error(message);
}

function same(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected))
    fail(`${what}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
}

/** What the grammar reads from `text`, which must be `expected` whenever it reads anything. */
function readBack(text: string, expected: Command): Command | undefined {
  const parsed = parseCommand(text, CONTEXT);
  if (parsed.ok) same(parsed.command, expected, `the grammar's reading of ${JSON.stringify(text)}`);
  return parsed.ok ? parsed.command : undefined;
}

/** A command that would run on a host, and what a shell must print for it. */
interface ShellCheck {
  command: string;
  words: string[];
}

/** The shell checks of one host procedure; its URL (if any) is checked here and now. */
function procedureChecks(
  procedure: HostProcedure,
  values: { version: string; previous: string; host: string; service: string; environment: string },
): ShellCheck[] {
  const { version, previous, host, service, environment } = values;
  const [words, joined] = procedure.steps;
  const checks: ShellCheck[] = [
    { command: words?.command ?? '', words: [version, previous, host, service, environment] },
    { command: joined?.command ?? '', words: [`--tag=${version}@${host}`, service] },
  ];
  if (procedure.verify !== undefined)
    checks.push({ command: procedure.verify.command, words: [`${environment}${version}`] });
  const probe = procedure.probe;
  if (probe.kind === 'command') checks.push({ command: probe.command, words: [host, version] });
  if (probe.kind === 'http') {
    const url = new URL(probe.url);
    const canonical = new URL(`http://${host.includes(':') ? `[${host}]` : host}/`).hostname;
    same(url.hostname, canonical, 'the URL host');
    same(url.port, '8080', 'the URL port');
    same(url.searchParams.get('v'), version, 'the version in the URL');
    same(url.searchParams.get('s'), service, 'the service in the URL');
  }
  return checks;
}

async function runChecks(shell: PosixShell, checks: readonly ShellCheck[]): Promise<void> {
  const printed = await Promise.all(checks.map((check) => shell.printed(check.command)));
  checks.forEach((check, index) =>
    same(
      printed[index],
      nulTerminated(check.words),
      `what the shell saw of ${JSON.stringify(check.command)}`,
    ),
  );
}

/** One run of the property; throws when a shell would see other words than intended. */
export async function checkInjection(input: InjectionInput, shell: PosixShell): Promise<Outcome> {
  const raw = {
    version: input.version,
    previous_version: input.previous ?? '',
    host: input.host.address,
    service: input.service,
    environment: input.environment,
  };
  // Quoting alone, on the raw strings, before anything refuses them.
  const checks: ShellCheck[] = [
    {
      command: renderTemplate("printf '%s\\0' {{version}} x{{host}}y {{service}}", raw, 'shell'),
      words: [raw.version, `x${raw.host}y`, raw.service],
    },
  ];
  const [service, environment] = [quoteToken(input.service), quoteToken(input.environment)];
  const reason = input.reason.trim();
  readBack(`lock ${service} to ${environment} ${quoteToken(input.reason)}`, {
    verb: 'lock',
    service: input.service,
    environment: input.environment,
    ...(reason === '' ? {} : { reason }),
  });

  // Quoted, each value must be read back exactly; typed bare, whatever is read must reach the
  // shell exactly as read.
  const parsed =
    input.typing === 'quoted'
      ? readBack(`${service} ${quoteToken(input.version)} to ${environment}`, {
          verb: 'deploy',
          service: input.service,
          version: input.version,
          environment: input.environment,
          dryRun: false,
        })
      : (() => {
          const result = parseCommand(
            `${input.service} ${input.version} to ${input.environment}`,
            CONTEXT,
          );
          return result.ok ? result.command : undefined;
        })();
  const outcome = planned(input, parsed);
  await runChecks(shell, [...checks, ...outcome.checks]);
  return outcome.outcome;
}

/** What the validator and planner make of a deploy the grammar read. */
function planned(
  input: InjectionInput,
  parsed: Command | undefined,
): { outcome: Outcome; checks: ShellCheck[] } {
  const refused = (outcome: Outcome) => ({ outcome, checks: [] });
  if (parsed?.verb !== 'deploy') return refused('grammar refused');

  const checked = validatePlaybook(playbookDocument(input));
  if (!checked.ok) return refused('playbook refused');
  const modelHost = checked.playbook.environments[0]?.groups[0]?.hosts[0];
  same(modelHost?.address, input.host.address, 'the host address the playbook holds');

  const plan = planRollout(
    checked.playbook,
    {
      kind: 'deploy',
      service: parsed.service,
      version: parsed.version,
      ...(parsed.environment === undefined ? {} : { environment: parsed.environment }),
      previousVersion: input.previous,
    },
    0,
  );
  if (!plan.ok) return refused('planner refused');
  const host = plan.plan.groups[0]?.hosts[0] ?? fail('a plan without its host');
  const environmentName = parsed.environment ?? fail('a deploy read without its environment');
  const names = { host: input.host.address, service: parsed.service, environment: environmentName };
  const checks = procedureChecks(host.forward, {
    ...names,
    version: parsed.version,
    previous: input.previous ?? '',
  });
  if (input.previous !== null && input.previous !== parsed.version) {
    const rollback = host.rollback ?? fail('no rollback although there is a previous version');
    checks.push(
      ...procedureChecks(rollback, { ...names, version: input.previous, previous: parsed.version }),
    );
  }
  return { outcome: 'ran', checks };
}
