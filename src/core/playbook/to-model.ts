import { parseDuration } from '../duration.js';
import type {
  Environment,
  HealthCheck,
  Host,
  Inventory,
  JumpHost,
  Playbook,
  UnreachableBudget,
} from './model.js';
import { groupKey, hostKey, type Reach } from './reach.js';
import type { HostsFromEntry, MaxUnreachableEntry, PlaybookDocument } from './schema.js';

/** From the document as written (snake_case, durations as text) to the model the planner uses. */

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
    health: toHealth(document.health),
    onFailure: document.on_failure,
    environments,
  };
}
