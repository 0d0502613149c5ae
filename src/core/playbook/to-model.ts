import { parseDuration } from '../duration.js';
import type { Environment, HealthCheck, Host, Playbook } from './model.js';
import { parseHostText, type HostEntry, type PlaybookDocument } from './schema.js';

/** From the document as written (snake_case, durations as text) to the model the planner uses. */
function toHost(entry: HostEntry, defaultPort: number): Host {
  if (typeof entry === 'string') {
    const parsed = parseHostText(entry) as { address: string; port?: number };
    return { name: entry, address: parsed.address, port: parsed.port ?? defaultPort };
  }
  const hostPort = entry.port ?? defaultPort;
  const shown = entry.address.includes(':') ? `[${entry.address}]` : entry.address;
  return {
    name: entry.name ?? (entry.port === undefined ? entry.address : `${shown}:${hostPort}`),
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

export function toModel(document: PlaybookDocument): Playbook {
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
