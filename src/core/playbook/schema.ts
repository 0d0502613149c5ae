import { z } from 'zod';
import { RESERVED_SERVICE_NAMES } from '../command/usage.js';
import { DURATION_EXAMPLES, formatDuration, parseDuration } from '../duration.js';
import { PLACEHOLDERS, unknownPlaceholders } from '../template.js';
import { quotedPlaceholders } from '../quoted-placeholders.js';
import { closest } from '../suggest.js';

/**
 * The playbook file as people write it (snake_case keys, durations as text). Leaf rules live
 * here; rules that relate several fields live in validate.ts so that all problems are reported.
 */

export const DEFAULT_VERSION_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const NAME = /^[a-z][a-z0-9-]{0,39}$/;
const HOSTNAME =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const HOST_TEXT = /^(?:\[(?<v6>[0-9A-Fa-f:.]+)\]|(?<name>[^:\s]+))(?::(?<port>\d{1,5}))?$/;
const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;
const SLACK_GROUP = /^@[a-z0-9][a-z0-9._-]*$/;

function duration(what: string, minMs: number, maxMs: number, fallback?: string) {
  const text = z.string().superRefine((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `'${value}' is not a duration; write ${DURATION_EXAMPLES}`,
      });
    } else if (ms < minMs || ms > maxMs) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} of ${value} is out of range; use between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`,
      });
    }
  });
  return (fallback === undefined ? text : text.default(fallback)).meta({
    description: `${what}: a duration such as ${DURATION_EXAMPLES} (${formatDuration(minMs)} to ${formatDuration(maxMs)})`,
  });
}

const template = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    for (const name of unknownPlaceholders(value)) {
      const guess = closest(name, PLACEHOLDERS);
      ctx.addIssue({
        code: 'custom',
        message:
          `unknown placeholder {{${name}}}` +
          (guess === undefined ? '' : `; did you mean {{${guess}}}?`) +
          ` Known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
      });
    }
  });

/** A template run by a shell: a placeholder must be a word of its own, never inside quotes. */
const shellTemplate = template.superRefine((value, ctx) => {
  for (const { name, within } of quotedPlaceholders(value)) {
    const placeholder = `{{${name}}}`;
    ctx.addIssue({
      code: 'custom',
      message:
        within === 'a backslash escape'
          ? `${placeholder} follows a backslash, which escapes the quote baton puts around the value and lets the value run as shell: remove the backslash`
          : `${placeholder} is inside ${within}, which a value could close and then run as shell: write it bare (baton shell-quotes every placeholder itself), e.g. install ${placeholder} or --tag=${placeholder}`,
    });
  }
});

const name = (what: string) =>
  z.string().regex(NAME, {
    message: `${what} must start with a lowercase letter and use only a-z, 0-9 and - (at most 40 characters)`,
  });

const port = z.int().min(1).max(65_535);

const IPV4_PART = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${IPV4_PART}(?:\\.${IPV4_PART}){3}$`);

/**
 * A host name or a dotted-quad IPv4 address. A name whose last label is a number (`08`, `web.0`,
 * `010.0.0.1`) is refused: resolvers and URLs read it as an IPv4 address in some other notation
 * (octal, hex, fewer parts), so it would not reach the host it names.
 */
export function isHostName(text: string): boolean {
  if (!HOSTNAME.test(text)) return false;
  return IPV4.test(text) || !/^(?:\d+|0x[0-9a-f]*)$/i.test(text.split('.').at(-1) ?? '');
}

/** An IPv6 address (without a zone), by the WHATWG URL parser's rules for `[...]` hosts. */
export function isIpv6(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

export function parseHostText(value: string): { address: string; port?: number } | undefined {
  // Two colons or more can only be an IPv6 address (name:port has one), so brackets are optional.
  if (isIpv6(value) && value.split(':').length > 2) return { address: value };
  const match = HOST_TEXT.exec(value);
  const address = match?.groups?.v6 ?? match?.groups?.name;
  if (address === undefined) return undefined;
  if (match?.groups?.v6 === undefined ? !isHostName(address) : !isIpv6(address)) return undefined;
  const portText = match?.groups?.port;
  const hostPort = portText === undefined ? undefined : Number(portText);
  if (hostPort !== undefined && (hostPort < 1 || hostPort > 65_535)) return undefined;
  return { address, ...(hostPort === undefined ? {} : { port: hostPort }) };
}

export const SSH_USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const sshUser = z.string().regex(SSH_USER, {
  message: 'a user name starts with a letter or _ and has letters, digits, _ . - (at most 32)',
});

/** Written instead of hops, it turns off a jump inherited from an outer level. */
export const NO_JUMP = 'none';
const MAX_HOPS = 8;
const HOP_TEXT = /^(?:ssh:\/\/)?(?:(?<user>[^@\s]+)@)?(?<host>[^@\s]+)$/;

/** A jump host as written: `user@host:port`, user and port optional (`ssh://` too, as ProxyJump takes it). */
export function parseHopText(
  value: string,
): { user?: string; host: string; port?: number } | undefined {
  const match = HOP_TEXT.exec(value);
  const user = match?.groups?.user;
  if (user !== undefined && !SSH_USER.test(user)) return undefined;
  const host = parseHostText(match?.groups?.host ?? '');
  if (host === undefined) return undefined;
  return {
    ...(user === undefined ? {} : { user }),
    host: host.address,
    ...(host.port === undefined ? {} : { port: host.port }),
  };
}

const HOP_MESSAGE =
  "a jump host is 'user@host:port' (user and port optional), e.g. ops@bastion.example.com:22";
export const JumpSchema = z
  .union([
    z.string().refine((value) => value === NO_JUMP || parseHopText(value) !== undefined, {
      message: `${HOP_MESSAGE}, or '${NO_JUMP}'`,
    }),
    z
      .array(
        z.string().refine((value) => value !== NO_JUMP && parseHopText(value) !== undefined, {
          message: `${HOP_MESSAGE} ('${NO_JUMP}' stands alone, not in a list)`,
        }),
      )
      .min(1, { message: `list at least one hop, or write '${NO_JUMP}'` })
      .max(MAX_HOPS, { message: `at most ${MAX_HOPS} hops` }),
  ])
  .meta({
    id: 'jump',
    description: `Jump hosts (bastions) the connection goes through: 'user@host:port', or a list of them, outermost first; '${NO_JUMP}' connects directly. The most specific wins: a host's own, its ProxyJump in the ssh config, its group's, its environment's, the playbook's.`,
  });
const jumpOnly = z.strictObject({ jump: JumpSchema.optional() }).optional();

const hostText = z.string().refine((value) => parseHostText(value) !== undefined, {
  message:
    'a host is a hostname or IP, optionally with :port (e.g. web-01.internal:2222, [::1]:22)',
});
const hostObject = z.strictObject({
  address: z.string().refine((value) => isHostName(value) || isIpv6(value), {
    message: 'address must be a hostname or an IP address (IPv6 without brackets, e.g. ::1)',
  }),
  port: port.optional(),
  name: z.string().min(1).max(80).optional(),
  user: sshUser.optional(),
  jump: JumpSchema.optional(),
});
export const HostSchema = z.union([hostText, hostObject]);

const principal = z.string().refine((value) => SLACK_USER.test(value) || SLACK_GROUP.test(value), {
  message: 'use a Slack user ID (U012ABCDEF) or a user-group handle (@sre)',
});

const command = z.strictObject({
  run: shellTemplate,
  timeout: duration('timeout', 1_000, 7_200_000, '5m'),
});

export const StepSchema = z.strictObject({
  name: z.string().min(1).max(60),
  run: shellTemplate,
  timeout: duration('step timeout', 1_000, 7_200_000, '5m'),
});

/** Written as a hook's `on`, it runs the command on the worker's own machine. */
export const ON_CONTROLLER = 'controller';
const MAX_HOOKS = 20;

export const HookStepSchema = z
  .strictObject({
    name: z.string().min(1).max(60),
    run: shellTemplate,
    on: z
      .string()
      .refine((value) => value === ON_CONTROLLER || parseHostText(value) !== undefined, {
        message: `on is '${ON_CONTROLLER}' (the worker's machine) or a host reached over SSH, e.g. lb-01.internal or lb-01.internal:2222`,
      })
      .meta({
        description: `Where the command runs: '${ON_CONTROLLER}' (the worker's machine) or a host (name, name:port, or an alias of the ssh config), reached over SSH with its key verified like a target's`,
      }),
    timeout: duration('step timeout', 1_000, 7_200_000, '5m'),
  })
  .meta({ id: 'hook_step' });
const hookSteps = (when: string) =>
  z
    .array(HookStepSchema)
    .max(MAX_HOOKS, { message: `at most ${MAX_HOOKS} steps` })
    .optional()
    .meta({
      description: `Steps run ${when}, in rollbacks too, somewhere else than the host ({{host}} names the host being changed); a failure follows on_failure like any step's`,
    });

/** How many capturing groups a regular expression has (an empty alternative always matches). */
export function captureGroups(source: string): number {
  return (new RegExp(`${source}|`, 'u').exec('')?.length ?? 1) - 1;
}

export const VersionSourceSchema = z
  .strictObject({
    command: shellTemplate.optional().meta({
      description: 'Run on each host over SSH; its output, trimmed, is the version it runs',
    }),
    timeout: duration('version command timeout', 1_000, 300_000, '30s'),
    from_health: z
      .string()
      .min(1)
      .superRefine((value, ctx) => {
        let groups: number;
        try {
          groups = captureGroups(value);
        } catch (error) {
          ctx.addIssue({
            code: 'custom',
            message: `not a valid regular expression: ${(error as Error).message}`,
          });
          return;
        }
        if (groups !== 1)
          ctx.addIssue({
            code: 'custom',
            message: `the pattern has ${groups} capturing groups; give it exactly one, around the version, e.g. 'ok (\\S+)' (write (?:...) for the others)`,
          });
      })
      .optional()
      .meta({
        description:
          'A regular expression with one capturing group, matched against the body of the http health check: the group is the version the host runs',
      }),
  })
  .superRefine((value, ctx) => {
    if ((value.command === undefined) === (value.from_health === undefined))
      ctx.addIssue({
        code: 'custom',
        message:
          "give exactly one of command (e.g. command: 'cat /opt/app/VERSION') or from_health (e.g. from_health: 'ok (\\S+)')",
      });
  })
  .meta({
    id: 'version_source',
    description:
      'How baton reads the version each host really runs, before a rollout: a command over SSH, or a pattern over its health response',
  });

export const HealthSchema = z.strictObject({
  http: z
    .strictObject({
      url: template.refine((value) => /^https?:\/\//.test(value), {
        message: 'url must start with http:// or https://',
      }),
      status: z.int().min(100).max(599).default(200),
      body_contains: template.optional(),
      request_timeout: duration('request timeout', 100, 60_000, '2s'),
    })
    .optional(),
  tcp: z
    .strictObject({ port, connect_timeout: duration('connect timeout', 100, 60_000, '2s') })
    .optional(),
  command: command.optional(),
  interval: duration('health interval', 100, 60_000, '1s'),
  timeout: duration('health timeout', 1_000, 3_600_000, '60s'),
  successes: z.int().min(1).max(100).default(1),
});

/** A command on the worker's machine that lists a group's hosts when a plan is made. */
export const HostsFromSchema = z
  .strictObject({
    command: z.string().trim().min(1, { message: 'give the command that lists the hosts' }),
    timeout: duration('inventory timeout', 1_000, 600_000, '30s'),
  })
  .meta({
    description:
      "A command run on baton's machine when a plan is made (a deploy request, `baton plan`, and again when the rollout starts) that prints the group's hosts: one per line (name, name:port), or a JSON array of hosts as `hosts` takes them. Instead of `hosts`.",
  });

export const GroupSchema = z.strictObject({
  name: name('a group name'),
  /** Absent only with hosts_from (cross-field.ts says so). */
  hosts: z.array(HostSchema).min(1, { message: 'a group needs at least one host' }).optional(),
  hosts_from: HostsFromSchema.optional(),
  parallel: z.int().min(1, { message: 'parallel must be at least 1' }).max(1000).default(1),
  verify: command.optional(),
  gate: z.enum(['auto', 'manual']).default('auto'),
  ssh: jumpOnly,
});

/** A count of hosts, or a percentage of the hosts a rollout covers: 0 to 100, whole numbers. */
export const BUDGET_PERCENT = /^(?:100|[1-9]?\d)%$/;
export const MaxUnreachableSchema = z
  .union([
    z.int().min(0, { message: 'max_unreachable counts hosts: 0 or more' }).max(100_000),
    z.string().regex(BUDGET_PERCENT, {
      message: "a percentage is written as a whole number from 0 to 100 with %, e.g. '10%'",
    }),
  ])
  .meta({
    description:
      "How many hosts that cannot be connected to before a rollout are left out of it (not updated) instead of refusing it: a count (2) or a share of the rollout's hosts ('10%', rounded down). Default 0: any unreachable host refuses the rollout.",
  });

export const EnvironmentSchema = z.strictObject({
  deployers: z.array(principal).optional(),
  max_unreachable: MaxUnreachableSchema.optional(),
  approval: z
    .strictObject({
      required: z.boolean().default(false),
      approvers: z.array(principal).optional(),
      expires: duration('approval expiry', 60_000, 7 * 86_400_000, '30m'),
    })
    .optional(),
  groups: z.array(GroupSchema).min(1, { message: 'an environment needs at least one group' }),
  ssh: jumpOnly,
});

export const FAILURE_POLICIES = ['rollback_group', 'rollback_all', 'halt'] as const;

export const PlaybookSchema = z
  .strictObject({
    service: name('service').refine((value) => !RESERVED_SERVICE_NAMES.includes(value), {
      message: `service may not be a word of the /deploy grammar (${RESERVED_SERVICE_NAMES.join(', ')})`,
    }),
    description: z.string().max(300).optional(),
    version_pattern: z
      .string()
      .default(DEFAULT_VERSION_PATTERN)
      .superRefine((value, ctx) => {
        try {
          new RegExp(value, 'u');
        } catch (error) {
          ctx.addIssue({
            code: 'custom',
            message: `not a valid regular expression: ${(error as Error).message}`,
          });
          return;
        }
        if (!value.startsWith('^') || !value.endsWith('$')) {
          ctx.addIssue({
            code: 'custom',
            message: 'anchor the pattern with ^ and $ so the whole version is checked',
          });
        }
      }),
    default_environment: z.string().optional(),
    ssh: z
      .strictObject({
        user: sshUser.default('deploy'),
        port: port.default(22),
        config: z.string().min(1).optional().meta({
          description:
            'An OpenSSH client config file (HostName, User, Port, IdentityFile, ProxyJump of its Host blocks); relative to the playbook',
        }),
        jump: JumpSchema.optional(),
      })
      .default({ user: 'deploy', port: 22 }),
    steps: z.array(StepSchema).min(1, { message: 'a playbook needs at least one step' }),
    before_host: hookSteps("before each host's steps"),
    after_host: hookSteps('after each host is healthy'),
    health: HealthSchema,
    version: VersionSourceSchema.optional(),
    skip_current: z.boolean().default(true).meta({
      description:
        'With version: a deploy leaves out hosts already healthy on the version it deploys (restart never does); false turns that off',
    }),
    on_failure: z.enum(FAILURE_POLICIES).default('rollback_group'),
    environments: z.record(z.string(), EnvironmentSchema),
  })
  .meta({
    title: 'baton playbook',
    description: 'How baton rolls out one service: steps, health checks and groups of hosts.',
  });

export type PlaybookDocument = z.output<typeof PlaybookSchema>;
export type HostEntry = z.output<typeof HostSchema>;
export type JumpEntry = z.output<typeof JumpSchema>;
export type HostsFromEntry = z.output<typeof HostsFromSchema>;
export type MaxUnreachableEntry = z.output<typeof MaxUnreachableSchema>;
export type HookStepEntry = z.output<typeof HookStepSchema>;
