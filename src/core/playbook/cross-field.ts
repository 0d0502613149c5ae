import { RESERVED_SERVICE_NAMES } from '../command/usage.js';
import { closest } from '../suggest.js';
import { formatPath, problem, type PathSegment, type Problem } from './problems.js';
import { parseHostText } from './schema.js';

/**
 * Rules that relate several fields. They run on the raw document, defensively, so that they
 * report even when other parts of it do not match the schema.
 */
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

export function crossFieldProblems(document: unknown): Problem[] {
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

  if (
    isRecord(document.version) &&
    document.version.from_health !== undefined &&
    isRecord(document.health) &&
    document.health.http === undefined
  ) {
    problems.push(
      problem(
        ['version', 'from_health'],
        'from_health reads the body of the http health check, and this playbook has none',
        "use health.http, or read the version with a command (version: { command: 'cat /opt/app/VERSION' })",
      ),
    );
  }
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
      if (group.hosts !== undefined && group.hosts_from !== undefined)
        problems.push(
          problem(
            [...at, 'hosts_from'],
            'give hosts or hosts_from, not both',
            'hosts_from lists every host of the group; move fixed hosts to a group of their own',
          ),
        );
      else if (group.hosts === undefined && group.hosts_from === undefined)
        problems.push(
          problem(
            at,
            'a group needs hosts',
            "list them (hosts: [web-01]) or name a command that prints them (hosts_from: { command: './list-hosts' })",
          ),
        );
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
