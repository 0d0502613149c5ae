import type { Environment, HealthCheck, HookStep, Host, Playbook } from '../playbook/model.js';
import { closest } from '../suggest.js';
import { renderTemplate, type TemplateValues } from '../template.js';
import { allowedUnreachable, writtenBudget } from './budget.js';
import { filterGroups } from './filter.js';
import type { HostProcedure, Plan, PlanFilter, PlannedHost, PlannedStep, Probe } from './plan.js';
import { reachOf } from './reach.js';
import { versionProblem } from './version.js';

export interface RolloutRequest {
  kind: 'deploy' | 'rollback' | 'restart';
  service: string;
  version: string;
  environment?: string;
  /** The version running now, if baton knows it; rolling back goes to it. */
  previousVersion: string | null;
  /** `--hosts` / `--groups`: only these; absent, the whole environment. */
  only?: PlanFilter;
}

export type PlanErrorCode =
  | 'wrong_service'
  | 'unknown_environment'
  | 'no_environment'
  | 'version_mismatch'
  | 'unknown_host_or_group'
  | 'inventory_not_run';
export type PlanResult =
  { ok: true; plan: Plan } | { ok: false; error: { code: PlanErrorCode; message: string } };

function refuse(code: PlanErrorCode, message: string): PlanResult {
  return { ok: false, error: { code, message } };
}

export function chooseEnvironment(
  playbook: Playbook,
  requested: string | undefined,
): Environment | string {
  const name = requested ?? playbook.defaultEnvironment;
  const names = playbook.environments.map((environment) => environment.name);
  if (name === undefined) {
    return `${playbook.service} has several environments (${names.join(', ')}) and no default_environment: add "to <env>".`;
  }
  const found = playbook.environments.find((environment) => environment.name === name);
  if (found !== undefined) return found;
  const guess = closest(name, names);
  return `${playbook.service} has no environment '${name}'; it has ${names.join(', ')}.${guess === undefined ? '' : ` Did you mean '${guess}'?`}`;
}

function probeFor(health: HealthCheck, values: TemplateValues, host: Host): Probe {
  switch (health.kind) {
    case 'http':
      return {
        kind: 'http',
        url: renderTemplate(health.url, values, 'url'),
        status: health.status,
        requestTimeoutMs: health.requestTimeoutMs,
        ...(health.bodyContains === undefined
          ? {}
          : { bodyContains: renderTemplate(health.bodyContains, values, 'none') }),
      };
    case 'tcp':
      return {
        kind: 'tcp',
        address: host.address,
        port: health.port,
        connectTimeoutMs: health.connectTimeoutMs,
      };
    case 'command':
      return {
        kind: 'command',
        command: renderTemplate(health.run, values, 'shell'),
        timeoutMs: health.commandTimeoutMs,
      };
  }
}

/** The procedure with its placeholders left in, for rollbacks to what a host really ran. */
function recipeOf(playbook: Playbook): NonNullable<Plan['recipe']> {
  const raw = (step: { name: string; run: string; timeoutMs: number }): PlannedStep => ({
    name: step.name,
    command: step.run,
    timeoutMs: step.timeoutMs,
  });
  const hook = (step: HookStep): PlannedStep => ({ ...raw(step), on: hookOn(step) });
  const { health } = playbook;
  const probe: Probe =
    health.kind === 'http'
      ? {
          kind: 'http',
          url: health.url,
          status: health.status,
          requestTimeoutMs: health.requestTimeoutMs,
          ...(health.bodyContains === undefined ? {} : { bodyContains: health.bodyContains }),
        }
      : health.kind === 'tcp'
        ? { kind: 'tcp', address: '', port: health.port, connectTimeoutMs: health.connectTimeoutMs }
        : { kind: 'command', command: health.run, timeoutMs: health.commandTimeoutMs };
  return {
    steps: [...(playbook.beforeHost ?? []).map(hook), ...playbook.steps.map(raw)],
    after: (playbook.afterHost ?? []).map(hook),
    probe,
  };
}

/** How pre-flight reads the version this host runs, when the playbook says. */
function readVersionOf(
  playbook: Playbook,
  environment: Environment,
  host: Host,
): Pick<PlannedHost, 'readVersion'> {
  const source = playbook.version;
  if (source === undefined) return {};
  if (source.kind === 'from_health')
    return { readVersion: { kind: 'from_health', pattern: source.pattern } };
  const values: TemplateValues = {
    version: '',
    previous_version: '',
    host: host.address,
    service: playbook.service,
    environment: environment.name,
  };
  return {
    readVersion: {
      kind: 'command',
      command: renderTemplate(source.run, values, 'shell'),
      timeoutMs: source.timeoutMs,
    },
  };
}

/** A hook with the values of the host it runs for: on the worker's machine or on another host. */
function plannedHook(hook: HookStep, values: TemplateValues): PlannedStep {
  return {
    name: hook.name,
    command: renderTemplate(hook.run, values, 'shell'),
    timeoutMs: hook.timeoutMs,
    on: hookOn(hook),
  };
}

function hookOn(hook: HookStep): NonNullable<PlannedStep['on']> {
  return hook.on === 'controller'
    ? 'controller'
    : { name: hook.on.name, address: hook.on.address, port: hook.on.port, ...reachOf(hook.on) };
}

function procedure(
  playbook: Playbook,
  environment: Environment,
  group: Environment['groups'][number],
  host: Host,
  version: string,
  previousVersion: string | null,
  pass: 'forward' | 'rollback',
): HostProcedure {
  const values: TemplateValues = {
    version,
    previous_version: previousVersion ?? '',
    host: host.address,
    service: playbook.service,
    environment: environment.name,
  };
  const after = (playbook.afterHost ?? []).map((hook) => plannedHook(hook, values));
  return {
    version,
    steps: [
      ...(playbook.beforeHost ?? []).map((hook) => plannedHook(hook, values)),
      ...playbook.steps.map((step) => ({
        name: step.name,
        command: renderTemplate(step.run, values, 'shell'),
        timeoutMs: step.timeoutMs,
      })),
    ],
    ...(after.length === 0 ? {} : { after }),
    probe: probeFor(playbook.health, values, host),
    // Verification checks a new version on the canary; going back has nothing to verify.
    ...(group.verify === undefined || pass === 'rollback'
      ? {}
      : {
          verify: {
            name: 'verify',
            command: renderTemplate(group.verify.run, values, 'shell'),
            timeoutMs: group.verify.timeoutMs,
          },
        }),
  };
}

/**
 * Turns a playbook and a request into the exact commands each host will run. Versions that do not
 * match the playbook's pattern are refused here, before any command exists.
 */
export function planRollout(playbook: Playbook, request: RolloutRequest, now: number): PlanResult {
  if (request.service !== playbook.service) {
    return refuse(
      'wrong_service',
      `This playbook is for ${playbook.service}, not ${request.service}.`,
    );
  }
  const environment = chooseEnvironment(playbook, request.environment);
  if (typeof environment === 'string') {
    return refuse(
      request.environment === undefined ? 'no_environment' : 'unknown_environment',
      environment,
    );
  }
  for (const [label, version] of [
    ['version', request.version],
    ['previous version', request.previousVersion],
  ] as const) {
    const problem = version === null ? undefined : versionProblem(playbook, version, label);
    if (problem !== undefined) return refuse('version_mismatch', problem);
  }
  const covered = filterGroups(environment, request.only);
  if (!covered.ok) return refuse('unknown_host_or_group', covered.message);
  // Only the groups the rollout covers need their hosts: planning an approved `--groups a`
  // again has no listing for an inventory group it left out, and needs none.
  const unread = covered.groups.find((group) => group.hosts.length === 0);
  if (unread !== undefined)
    return refuse(
      'inventory_not_run',
      `group ${unread.name} lists its hosts with hosts_from, which has not been run for this plan.`,
    );
  const hostCount = covered.groups.reduce((sum, group) => sum + group.hosts.length, 0);
  const budget = environment.maxUnreachable;
  // Going "back" to the version being rolled out would only repeat it: a failure then halts.
  const rollbackVersion =
    request.previousVersion === request.version ? null : request.previousVersion;
  return {
    ok: true,
    plan: {
      kind: request.kind,
      service: playbook.service,
      environment: environment.name,
      version: request.version,
      previousVersion: request.previousVersion,
      createdAt: now,
      sshUser: playbook.ssh.user,
      versionPattern: playbook.versionPattern,
      // With after_host hooks a host can be on the version and healthy while its hooks never ran
      // (a failed "enable in the load balancer"): only deploying it again runs them.
      skipCurrent:
        playbook.version !== undefined &&
        playbook.skipCurrent &&
        request.kind !== 'restart' &&
        (playbook.afterHost ?? []).length === 0,
      recipe: recipeOf(playbook),
      onFailure: playbook.onFailure,
      health: {
        intervalMs: playbook.health.intervalMs,
        timeoutMs: playbook.health.timeoutMs,
        successes: playbook.health.successes,
      },
      ...(request.only === undefined ? {} : { only: request.only }),
      ...(budget === undefined
        ? {}
        : {
            unreachable: {
              allowed: allowedUnreachable(budget, hostCount),
              written: writtenBudget(budget),
            },
          }),
      groups: covered.groups.map((group) => ({
        name: group.name,
        parallel: Math.min(group.parallel, group.hosts.length),
        gate: group.gate,
        ...(group.inventory === undefined
          ? {}
          : {
              inventory: {
                command: group.inventory.command,
                timeoutMs: group.inventory.timeoutMs,
              },
            }),
        hosts: group.hosts.map((host) => ({
          name: host.name,
          address: host.address,
          port: host.port,
          ...reachOf(host),
          ...readVersionOf(playbook, environment, host),
          forward: procedure(
            playbook,
            environment,
            group,
            host,
            request.version,
            request.previousVersion,
            'forward',
          ),
          ...(rollbackVersion === null
            ? {}
            : {
                rollback: procedure(
                  playbook,
                  environment,
                  group,
                  host,
                  rollbackVersion,
                  request.version,
                  'rollback',
                ),
              }),
        })),
      })),
    },
  };
}
