import type { z } from 'zod';
import { RESERVED_SERVICE_NAMES } from '../command/usage.js';
import { parseDuration } from '../duration.js';
import { closest } from '../suggest.js';
import type { Environment, HealthCheck, Host, Playbook } from './model.js';
import { parseHostText, PlaybookSchema, type HostEntry, type PlaybookDocument } from './schema.js';

export type PathSegment = string | number;

export interface Problem {
  /** Where in the document, as segments (for finding the line) and as `a.b[1].c` text. */
  segments: PathSegment[];
  path: string;
  message: string;
  hint?: string;
}

export type ValidationResult =
  { ok: true; playbook: Playbook } | { ok: false; problems: Problem[] };

export function formatPath(segments: readonly PathSegment[]): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text === '' ? '(top level)' : text;
}

function problem(segments: PathSegment[], message: string, hint?: string): Problem {
  return { segments, path: formatPath(segments), message, ...(hint === undefined ? {} : { hint }) };
}

const TYPE_HINTS: Record<string, string> = {
  array: 'write a YAML list, e.g. [a, b] or one "- item" per line',
  object: 'write a YAML mapping of key: value lines',
  string: 'quote the value if YAML reads it as something else',
};

/** Known keys at each kind of place, for "did you mean" on misspelt keys. */
function knownKeys(
  issue: z.core.$ZodIssue & { code: 'unrecognized_keys' },
  document: unknown,
): string[] {
  const parent = issue.path.reduce<unknown>(
    (node, key) =>
      node !== null && typeof node === 'object'
        ? (node as Record<PropertyKey, unknown>)[key]
        : undefined,
    document,
  );
  const keys = parent !== null && typeof parent === 'object' ? Object.keys(parent) : [];
  const candidates = [
    'service',
    'description',
    'version_pattern',
    'default_environment',
    'ssh',
    'steps',
    'health',
    'on_failure',
    'environments',
    'user',
    'port',
    'name',
    'run',
    'timeout',
    'http',
    'tcp',
    'command',
    'interval',
    'successes',
    'url',
    'status',
    'body_contains',
    'request_timeout',
    'connect_timeout',
    'deployers',
    'approval',
    'groups',
    'required',
    'approvers',
    'expires',
    'hosts',
    'parallel',
    'verify',
    'gate',
    'address',
  ];
  return candidates.filter((candidate) => !keys.includes(candidate));
}

function fromZodIssue(issue: z.core.$ZodIssue, document: unknown): Problem[] {
  const segments = issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key));
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const guess = closest(key, knownKeys(issue, document));
        return problem(
          [...segments, key],
          `unknown key '${key}'`,
          guess === undefined ? 'remove it' : `did you mean '${guess}'?`,
        );
      });
    case 'invalid_type': {
      const received =
        issue.input === undefined
          ? 'nothing'
          : Array.isArray(issue.input)
            ? 'a list'
            : issue.input === null
              ? 'null'
              : typeof issue.input;
      if (issue.input === undefined)
        return [problem(segments, `'${String(segments.at(-1))}' is required (${issue.expected})`)];
      return [
        problem(
          segments,
          `expected ${issue.expected}, got ${received}`,
          TYPE_HINTS[issue.expected],
        ),
      ];
    }
    case 'invalid_value':
      return [problem(segments, `must be one of: ${issue.values.map(String).join(', ')}`)];
    case 'invalid_union': {
      // Report the branch the author was evidently writing: the one that got past its type check.
      const branches = issue.errors.filter(
        (branch) =>
          !branch.every((inner) => inner.code === 'invalid_type' && inner.path.length === 0),
      );
      const chosen = branches[0] ?? [];
      if (chosen.length === 0) return [problem(segments, issue.message)];
      return chosen.flatMap((inner) =>
        fromZodIssue({ ...inner, path: [...issue.path, ...inner.path] }, document),
      );
    }
    default:
      return [problem(segments, issue.message)];
  }
}

// --- rules across fields: run on the raw document so that they report even when other parts are wrong

type Raw = Record<string, unknown>;
const isRecord = (value: unknown): value is Raw =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function hostKey(entry: unknown, defaultPort: number): string | undefined {
  if (typeof entry === 'string') {
    const parsed = parseHostText(entry);
    return parsed === undefined ? undefined : `${parsed.address}:${parsed.port ?? defaultPort}`;
  }
  if (isRecord(entry) && typeof entry.address === 'string') {
    return `${entry.address}:${typeof entry.port === 'number' ? entry.port : defaultPort}`;
  }
  return undefined;
}

function crossFieldProblems(document: unknown): Problem[] {
  if (!isRecord(document)) return [];
  const problems: Problem[] = [];
  const environments = isRecord(document.environments) ? document.environments : {};
  const envNames = Object.keys(environments);
  const defaultPort =
    isRecord(document.ssh) && typeof document.ssh.port === 'number' ? document.ssh.port : 22;

  if (isRecord(document.environments) && envNames.length === 0) {
    problems.push(
      problem(
        ['environments'],
        'no environments',
        'add at least one, e.g. production: { groups: [...] }',
      ),
    );
  }
  for (const envName of envNames) {
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(envName) || RESERVED_SERVICE_NAMES.includes(envName)) {
      problems.push(
        problem(
          ['environments', envName],
          `'${envName}' is not a usable environment name`,
          'use lowercase a-z, 0-9 and -, not a word of the grammar',
        ),
      );
    }
  }
  const defaultEnv = document.default_environment;
  if (
    typeof defaultEnv === 'string' &&
    isRecord(document.environments) &&
    !envNames.includes(defaultEnv)
  ) {
    const guess = closest(defaultEnv, envNames);
    problems.push(
      problem(
        ['default_environment'],
        `'${defaultEnv}' is not one of the environments (${envNames.join(', ')})`,
        guess === undefined ? undefined : `did you mean '${guess}'?`,
      ),
    );
  }
  if (defaultEnv === undefined && envNames.length > 1) {
    problems.push(
      problem(
        ['default_environment'],
        `required when there are several environments (${envNames.join(', ')})`,
        'name the one `/deploy <service> <version>` goes to without `to <env>`',
      ),
    );
  }

  const stepNames = new Map<string, number>();
  asArray(document.steps).forEach((step, index) => {
    if (!isRecord(step) || typeof step.name !== 'string') return;
    const first = stepNames.get(step.name);
    if (first !== undefined)
      problems.push(
        problem(
          ['steps', index, 'name'],
          `step name '${step.name}' is already used by steps[${first}]`,
          'give each step its own name',
        ),
      );
    else stepNames.set(step.name, index);
  });

  if (isRecord(document.health)) {
    const kinds = ['http', 'tcp', 'command'].filter(
      (kind) => document.health !== undefined && (document.health as Raw)[kind] !== undefined,
    );
    if (kinds.length !== 1) {
      problems.push(
        problem(
          ['health'],
          kinds.length === 0
            ? 'no health check: give exactly one of http, tcp or command'
            : `give exactly one of http, tcp or command, not ${kinds.join(' and ')}`,
        ),
      );
    }
  }

  for (const envName of envNames) {
    const environment = environments[envName];
    if (!isRecord(environment)) continue;
    const groupNames = new Map<string, number>();
    const hostsSeen = new Map<string, string>();
    asArray(environment.groups).forEach((group, groupIndex) => {
      if (!isRecord(group)) return;
      const at: PathSegment[] = ['environments', envName, 'groups', groupIndex];
      if (typeof group.name === 'string') {
        const first = groupNames.get(group.name);
        if (first !== undefined)
          problems.push(
            problem(
              [...at, 'name'],
              `group name '${group.name}' is already used by groups[${first}]`,
              'give each group its own name',
            ),
          );
        else groupNames.set(group.name, groupIndex);
      }
      asArray(group.hosts).forEach((entry, hostIndex) => {
        const key = hostKey(entry, defaultPort);
        if (key === undefined) return;
        const here = formatPath([...at, 'hosts', hostIndex]);
        const first = hostsSeen.get(key);
        if (first !== undefined)
          problems.push(
            problem(
              [...at, 'hosts', hostIndex],
              `host ${key} is listed twice (also at ${first})`,
              'a host belongs to exactly one group',
            ),
          );
        else hostsSeen.set(key, here);
      });
    });
    const approval = environment.approval;
    if (
      isRecord(approval) &&
      Array.isArray(approval.approvers) &&
      approval.approvers.length === 0
    ) {
      problems.push(
        problem(
          ['environments', envName, 'approval', 'approvers'],
          'an empty list means nobody can approve',
          'list approvers, or leave the key out to let anyone but the requester approve',
        ),
      );
    }
  }
  return problems;
}

// --- from document to model

function toHost(entry: HostEntry, defaultPort: number): Host {
  if (typeof entry === 'string') {
    const parsed = parseHostText(entry) as { address: string; port?: number };
    return { name: entry, address: parsed.address, port: parsed.port ?? defaultPort };
  }
  const hostPort = entry.port ?? defaultPort;
  return {
    name: entry.name ?? (entry.port === undefined ? entry.address : `${entry.address}:${hostPort}`),
    address: entry.address,
    port: hostPort,
  };
}

const ms = (text: string): number => parseDuration(text) as number;

function toHealth(health: PlaybookDocument['health']): HealthCheck {
  const timing = {
    intervalMs: ms(health.interval),
    timeoutMs: ms(health.timeout),
    successes: health.successes,
  };
  if (health.http !== undefined) {
    const { url, status, body_contains, request_timeout } = health.http;
    return {
      kind: 'http',
      url,
      status,
      requestTimeoutMs: ms(request_timeout),
      ...(body_contains === undefined ? {} : { bodyContains: body_contains }),
      ...timing,
    };
  }
  if (health.tcp !== undefined)
    return {
      kind: 'tcp',
      port: health.tcp.port,
      connectTimeoutMs: ms(health.tcp.connect_timeout),
      ...timing,
    };
  const command = health.command as { run: string; timeout: string };
  return { kind: 'command', run: command.run, commandTimeoutMs: ms(command.timeout), ...timing };
}

function toModel(document: PlaybookDocument): Playbook {
  const environments: Environment[] = Object.entries(document.environments).map(
    ([name, environment]) => ({
      name,
      ...(environment.deployers === undefined ? {} : { deployers: environment.deployers }),
      approval: {
        required: environment.approval?.required ?? false,
        expiresMs: ms(environment.approval?.expires ?? '30m'),
        ...(environment.approval?.approvers === undefined
          ? {}
          : { approvers: environment.approval.approvers }),
      },
      groups: environment.groups.map((group) => ({
        name: group.name,
        hosts: group.hosts.map((entry) => toHost(entry, document.ssh.port)),
        parallel: group.parallel,
        gate: group.gate,
        ...(group.verify === undefined
          ? {}
          : { verify: { run: group.verify.run, timeoutMs: ms(group.verify.timeout) } }),
      })),
    }),
  );
  const onlyEnvironment = environments.length === 1 ? environments[0]?.name : undefined;
  const defaultEnvironment = document.default_environment ?? onlyEnvironment;
  return {
    service: document.service,
    ...(document.description === undefined ? {} : { description: document.description }),
    versionPattern: document.version_pattern,
    ...(defaultEnvironment === undefined ? {} : { defaultEnvironment }),
    ssh: document.ssh,
    steps: document.steps.map((step) => ({
      name: step.name,
      run: step.run,
      timeoutMs: ms(step.timeout),
    })),
    health: toHealth(document.health),
    onFailure: document.on_failure,
    environments,
  };
}

/** Validates parsed YAML/JSON data. Reports every problem at once, each with its path. */
export function validatePlaybook(document: unknown): ValidationResult {
  const parsed = PlaybookSchema.safeParse(document, { reportInput: true });
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.flatMap((issue) => fromZodIssue(issue, document))),
    ...crossFieldProblems(document),
  ];
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, playbook: toModel(parsed.data) };
}

export function formatProblem(item: Problem): string {
  return `${item.path}: ${item.message}${item.hint === undefined ? '' : ` (${item.hint})`}`;
}
