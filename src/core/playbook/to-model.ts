import { parseDuration } from '../duration.js';
import type {
  Environment,
  HealthCheck,
  HookStep,
  Host,
  Inventory,
  JumpHost,
  Playbook,
  UnreachableBudget,
  VersionSource,
} from './model.js';
import { groupKey, hookHostKey, hostKey, type Reach } from './reach.js';
import {
  ON_CONTROLLER,
  type HostsFromEntry,
  type MaxUnreachableEntry,
  type PlaybookDocument,
} from './schema.js';

/** From the document as written (snake_case, durations as text) to the model the planner uses. */

const ms = (text: string): number => parseDuration(text) as number;
const optional = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

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

function toInventory(written: HostsFromEntry, jump: JumpHost[] | undefined): Inventory {
  return {
    command: written.command,
    timeoutMs: ms(written.timeout),
    ...(jump === undefined || jump.length === 0 ? {} : { jump }),
  };
}

function toBudget(written: MaxUnreachableEntry): UnreachableBudget {
  return typeof written === 'number'
    ? { count: written }
    : { percent: Number(written.slice(0, -1)) };
}

function toHooks(
  document: PlaybookDocument,
  list: 'before_host' | 'after_host',
  reach: Reach,
): HookStep[] | undefined {
  const steps = document[list];
  if (steps === undefined || steps.length === 0) return undefined;
  return steps.map((step, index) => ({
    name: step.name,
    run: step.run,
    timeoutMs: ms(step.timeout),
    on:
      step.on === ON_CONTROLLER
        ? 'controller'
        : (reach.hosts.get(hookHostKey(list, index)) as Host),
  }));
}

function toVersionSource(source: PlaybookDocument['version']): VersionSource | undefined {
  if (source === undefined) return undefined;
  if (source.from_health !== undefined) return { kind: 'from_health', pattern: source.from_health };
  return { kind: 'command', run: source.command as string, timeoutMs: ms(source.timeout) };
}

export function toModel(document: PlaybookDocument, reach: Reach): Playbook {
  const environments: Environment[] = Object.entries(document.environments).map(
    ([name, environment]) => ({
      name,
      ...(environment.deployers === undefined ? {} : { deployers: environment.deployers }),
      ...(environment.max_unreachable === undefined
        ? {}
        : { maxUnreachable: toBudget(environment.max_unreachable) }),
      approval: {
        required: environment.approval?.required ?? false,
        expiresMs: ms(environment.approval?.expires ?? '30m'),
        ...(environment.approval?.approvers === undefined
          ? {}
          : { approvers: environment.approval.approvers }),
      },
      groups: environment.groups.map((group, groupIndex) => ({
        name: group.name,
        hosts: (group.hosts ?? []).map(
          (_, hostIndex) => reach.hosts.get(hostKey(name, groupIndex, hostIndex)) as Host,
        ),
        ...(group.hosts_from === undefined
          ? {}
          : {
              inventory: toInventory(
                group.hosts_from,
                reach.inventoryJumps.get(groupKey(name, groupIndex)),
              ),
            }),
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
    ssh: {
      user: document.ssh.user,
      port: document.ssh.port,
      ...(document.ssh.config === undefined ? {} : { config: document.ssh.config }),
    },
    steps: document.steps.map((step) => ({
      name: step.name,
      run: step.run,
      timeoutMs: ms(step.timeout),
    })),
    ...optional('beforeHost', toHooks(document, 'before_host', reach)),
    ...optional('afterHost', toHooks(document, 'after_host', reach)),
    health: toHealth(document.health),
    ...optional('version', toVersionSource(document.version)),
    skipCurrent: document.skip_current,
    onFailure: document.on_failure,
    environments,
  };
}
