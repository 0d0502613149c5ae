import { formatDuration } from '../duration.js';
import {
  stepsOf,
  type Plan,
  type PlannedGroup,
  type PlannedHost,
  type PlannedJump,
  type PlannedStep,
  type Probe,
} from './plan.js';

const POLICY_TEXT: Record<Plan['onFailure'], string> = {
  rollback_group: 'roll back the group that failed, then stop',
  rollback_all: 'roll back every group touched, newest first, then stop',
  halt: 'stop where it failed and roll back nothing',
};

function describeProbe(probe: Probe): string {
  switch (probe.kind) {
    case 'http':
      return `GET ${probe.url} expects ${probe.status}${probe.bodyContains === undefined ? '' : ` and a body containing "${probe.bodyContains}"`}`;
    case 'tcp':
      return `TCP connect to ${probe.address}:${probe.port}`;
    case 'command':
      return `run ${probe.command} (timeout ${formatDuration(probe.timeoutMs)})`;
  }
}

const endpoint = (address: string, port: number): string =>
  `${address.includes(':') ? `[${address}]` : address}:${port}`;

function describeHop(hop: PlannedJump): string {
  const at = endpoint(hop.address, hop.port);
  return `${hop.user}@${hop.name === hop.address ? at : `${hop.name} (${at})`}`;
}

/** Where a hook runs, when not on the host itself. */
function describeWhere(step: PlannedStep): string {
  if (step.on === undefined) return '';
  if (step.on === 'controller') return ' (on the controller)';
  const hops =
    step.on.jump === undefined ? '' : ` through ${step.on.jump.map(describeHop).join(' → ')}`;
  return ` (on ${step.on.name}${hops})`;
}

function describeHost(plan: Plan, host: PlannedHost): string {
  const extras = [
    host.name.includes(':') || host.port === 22 ? undefined : `port ${host.port}`,
    host.user === undefined || host.user === plan.sshUser ? undefined : `as ${host.user}`,
  ].filter((extra) => extra !== undefined);
  return `${host.name}${extras.length === 0 ? '' : ` (${extras.join(', ')})`}`;
}

/** The jump hosts on the way to the group's hosts: one line per way, naming the hosts when they differ. */
function describeJumps(group: PlannedGroup): string[] {
  const ways = new Map<string, string[]>();
  for (const host of group.hosts) {
    const way = (host.jump ?? []).map(describeHop).join(' → ');
    ways.set(way, [...(ways.get(way) ?? []), host.name]);
  }
  if (ways.size === 1) {
    const only = [...ways.keys()][0] ?? '';
    return only === '' ? [] : [`   through: ${only}`];
  }
  return [...ways].map(([way, hosts]) =>
    way === '' ? `   directly: ${hosts.join(', ')}` : `   through ${way}: ${hosts.join(', ')}`,
  );
}

function describeGroup(plan: Plan, group: PlannedGroup, index: number): string[] {
  const count = group.hosts.length;
  const extras = [
    group.hosts[0]?.forward.verify === undefined ? undefined : 'then verify',
    group.gate === 'manual' ? 'then wait for Continue' : undefined,
  ].filter((extra) => extra !== undefined);
  const lines = [
    `${index + 1}. ${group.name}: ${count} host${count === 1 ? '' : 's'}, ${group.parallel} at a time${extras.length > 0 ? `, ${extras.join(', ')}` : ''}`,
    `   hosts: ${group.hosts.map((host) => describeHost(plan, host)).join(', ')}`,
    ...(group.inventory === undefined
      ? []
      : [`   listed by: ${group.inventory.command} (run again when the rollout starts)`]),
    ...describeJumps(group),
  ];
  const first = group.hosts[0];
  if (first === undefined) return lines;
  const width = Math.max(...stepsOf(first.forward).map((step) => step.name.length), 6);
  const stepLine = (step: PlannedStep) =>
    `     ${step.name.padEnd(width)}  ${step.command}  [timeout ${formatDuration(step.timeoutMs)}]${describeWhere(step)}`;
  lines.push(`   on ${first.name}${count > 1 ? ' (and alike on the others)' : ''}:`);
  for (const step of first.forward.steps) lines.push(stepLine(step));
  const lastHop = first.jump?.at(-1);
  // A probe over the network starts where the hosts are reachable: at the last jump host.
  const from =
    lastHop === undefined || first.forward.probe.kind === 'command'
      ? ''
      : `, sent from ${lastHop.name} over SSH`;
  lines.push(`     ${'health'.padEnd(width)}  ${describeProbe(first.forward.probe)}${from}`);
  for (const step of first.forward.after ?? []) lines.push(stepLine(step));
  if (first.forward.verify !== undefined) {
    lines.push(
      `     ${'verify'.padEnd(width)}  ${first.forward.verify.command}  [timeout ${formatDuration(first.forward.verify.timeoutMs)}]`,
    );
  }
  return lines;
}

/** `--groups a --hosts h1`: what a rollout was restricted to; empty when it was not. */
export function onlyText(plan: Pick<Plan, 'only'>): string {
  return [
    ...(plan.only?.groups === undefined ? [] : [`--groups ${plan.only.groups.join(',')}`]),
    ...(plan.only?.hosts === undefined ? [] : [`--hosts ${plan.only.hosts.join(',')}`]),
  ].join(' ');
}

/** What `--groups` / `--hosts` kept, and what happens to hosts pre-flight cannot reach. */
function describeCoverage(plan: Plan): string[] {
  const only = onlyText(plan);
  const budget =
    plan.unreachable === undefined || plan.unreachable.allowed === 0
      ? `any one refuses the rollout (max_unreachable ${plan.unreachable?.written ?? '0'})`
      : `up to ${plan.unreachable.allowed} left out, not updated (max_unreachable ${plan.unreachable.written}); more refuse the rollout`;
  const notUpdated = (plan.notUpdated ?? []).map(
    (left) => `not updated: ${left.host} (${left.group}): ${left.detail}`,
  );
  return [...(only === '' ? [] : [`only: ${only}`]), `unreachable hosts: ${budget}`, ...notUpdated];
}

/** The plan as a person reads it before approving: what runs where, in what order, and what if it fails. */
export function describePlan(plan: Plan): string {
  const change =
    plan.previousVersion === null
      ? `${plan.version} (running version unknown)`
      : `${plan.previousVersion} → ${plan.version}`;
  const hosts = plan.groups.reduce((sum, group) => sum + group.hosts.length, 0);
  const rollback = plan.groups[0]?.hosts[0]?.rollback;
  const { health } = plan;
  return [
    `${plan.kind} ${plan.service} to ${plan.environment}: ${change}`,
    `${plan.groups.length} group${plan.groups.length === 1 ? '' : 's'}, ${hosts} host${hosts === 1 ? '' : 's'}, one group at a time, as ${plan.sshUser}`,
    `health: every ${formatDuration(health.intervalMs)} at most, ${health.successes} pass${health.successes === 1 ? '' : 'es'} in a row, within ${formatDuration(health.timeoutMs)} per host`,
    `on failure: ${POLICY_TEXT[plan.onFailure]}${rollback === undefined && plan.onFailure !== 'halt' ? ' (but nothing to roll back to: it will stop instead)' : rollback === undefined ? '' : `, going back to ${rollback.version}`}`,
    ...describeCoverage(plan),
    '',
    ...plan.groups.flatMap((group, index) => describeGroup(plan, group, index)),
  ].join('\n');
}
