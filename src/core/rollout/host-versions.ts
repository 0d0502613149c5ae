import { renderTemplate, type TemplateValues } from '../template.js';
import type { HostProcedure, Plan, PlannedHost, PlannedStep, Probe } from './plan.js';
import type { RolloutState } from './state.js';
import { versionProblem } from './version.js';

/** What pre-flight saw of one host: the text its version was read from, and whether it is healthy. */
export interface HostObservation {
  /** The version command's output, or the health response's body. */
  output: string;
  /** The plan's own health check passed just now. */
  healthy: boolean;
}

export type ReadVersion = { ok: true; version: string } | { ok: false; problem: string };

const SHOWN_MAX = 60;
/**
 * How much of a health response from_health is matched against. A host decides how long its
 * body is, and an ordinary pattern such as `.*version=(\S+)` takes time quadratic in it: over
 * 10 MB that is hours with the worker's event loop blocked. A version sits near the start.
 */
export const FROM_HEALTH_MAX = 8192;
const shown = (text: string): string =>
  JSON.stringify(text.length > SHOWN_MAX ? `${text.slice(0, SHOWN_MAX)}…` : text);

/**
 * The version a host runs, from what it answered. It passes the same check as a version typed
 * in a command before it may ever be put in a command: the playbook's pattern, and no character a
 * shell, a URL or a chat message would read as more than text.
 */
export function readVersion(plan: Plan, host: PlannedHost, output: string): ReadVersion {
  const reading = host.readVersion;
  if (reading === undefined) return { ok: false, problem: 'the playbook reads no version' };
  let text: string | undefined;
  if (reading.kind === 'command') {
    text = output
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line !== '');
  } else {
    text = new RegExp(reading.pattern, 'u').exec(output.slice(0, FROM_HEALTH_MAX))?.[1];
  }
  if (text === undefined || text === '')
    return {
      ok: false,
      problem:
        reading.kind === 'command'
          ? `${host.name}: the version command printed nothing`
          : `${host.name}: the health response ${shown(output.trim())} does not match from_health ${reading.pattern}${output.length > FROM_HEALTH_MAX ? ` in its first ${FROM_HEALTH_MAX} characters` : ''}`,
    };
  const problem = versionProblem(
    { service: plan.service, versionPattern: plan.versionPattern ?? '.+' },
    text,
    `version read from ${host.name}`,
  );
  if (problem !== undefined)
    return { ok: false, problem: problem.replace(`'${text}'`, shown(text)) };
  return { ok: true, version: text };
}

export interface VersionsSeen {
  plan: Plan;
  /** Hosts left out: already healthy on the plan's version. */
  skipped: string[];
  /** Hosts whose version could not be read or was refused, each with why. */
  unread: string[];
}

/**
 * The plan with what each host really runs: its `running` version, and `skip` on hosts already
 * healthy on the plan's version when the plan skips those. Pure: the observations come from pre-flight.
 */
export function withHostVersions(
  plan: Plan,
  observations: ReadonlyMap<string, HostObservation>,
): VersionsSeen {
  const skipped: string[] = [];
  const unread: string[] = [];
  const groups = plan.groups.map((group) => ({
    ...group,
    hosts: group.hosts.map((host): PlannedHost => {
      const seen = observations.get(host.name);
      if (host.readVersion === undefined || seen === undefined) return host;
      const read = readVersion(plan, host, seen.output);
      if (!read.ok) {
        unread.push(read.problem);
        return host;
      }
      const skip = plan.skipCurrent === true && seen.healthy && read.version === plan.version;
      if (skip) skipped.push(host.name);
      const rollback =
        skip || read.version === plan.version || read.version === host.rollback?.version
          ? host.rollback
          : rollbackTo(plan, host, read.version);
      return {
        ...host,
        running: read.version,
        ...(skip ? { skip: true as const } : {}),
        ...(rollback === undefined ? {} : { rollback }),
      };
    }),
  }));
  return { plan: { ...plan, groups }, skipped, unread };
}

/** Hosts the plan leaves out, already healthy on its version. */
export function skippedHosts(plan: Plan): string[] {
  return plan.groups.flatMap((group) =>
    group.hosts.filter((host) => host.skip === true).map((host) => host.name),
  );
}

/** Going back to the version a host really ran, made from the plan's recipe like any procedure. */
function rollbackTo(plan: Plan, host: PlannedHost, version: string): HostProcedure | undefined {
  const recipe = plan.recipe;
  if (recipe === undefined) return host.rollback;
  const values: TemplateValues = {
    version,
    previous_version: plan.version,
    host: host.address,
    service: plan.service,
    environment: plan.environment,
  };
  const step = (raw: PlannedStep): PlannedStep => ({
    ...raw,
    command: renderTemplate(raw.command, values, 'shell'),
  });
  const probe = ((raw: Probe): Probe => {
    switch (raw.kind) {
      case 'http':
        return {
          ...raw,
          url: renderTemplate(raw.url, values, 'url'),
          ...(raw.bodyContains === undefined
            ? {}
            : { bodyContains: renderTemplate(raw.bodyContains, values, 'none') }),
        };
      case 'tcp':
        return { ...raw, address: host.address };
      case 'command':
        return { ...raw, command: renderTemplate(raw.command, values, 'shell') };
    }
  })(recipe.probe);
  const after = recipe.after.map(step);
  return {
    version,
    steps: recipe.steps.map(step),
    ...(after.length === 0 ? {} : { after }),
    probe,
  };
}

/**
 * The version each host was left on by a finished rollout: what pre-flight read, or what the
 * rollout moved it to; undefined where it cannot be told (left part-way, never read, or left out
 * as unreachable). Only
 * for plans that read versions: elsewhere untouched hosts would all be unknown.
 */
export function hostVersionsAfter(
  state: RolloutState,
): { host: string; version: string | undefined }[] | undefined {
  const { plan } = state;
  if (!plan.groups.some((group) => group.hosts.some((host) => host.readVersion !== undefined)))
    return undefined;
  const seen = state.groups.flatMap((group, index) =>
    group.hosts.map((host) => {
      const planned = plan.groups[index]?.hosts.find((candidate) => candidate.name === host.name);
      if (planned?.skip === true || !host.touched)
        return { host: host.name, version: planned?.running };
      if (host.phase !== 'healthy') return { host: host.name, version: undefined };
      return {
        host: host.name,
        version: host.pass === 'forward' ? plan.version : planned?.rollback?.version,
      };
    }),
  );
  // Left out as unreachable: never read nor changed, and whatever it runs, not known to be current.
  const left = (plan.notUpdated ?? []).map((host) => ({ host: host.host, version: undefined }));
  return [...seen, ...left];
}

/** Per-host versions for `status`: flags mixed versions and hosts that differ from the history's. */
export function describeHostVersions(
  hosts: readonly { host: string; version: string | undefined }[],
  recorded: string | null,
): string {
  const shown = hosts.map(({ host, version }) => `${host} ${version ?? '?'}`).join(', ');
  const known = new Set(hosts.flatMap(({ version }) => (version === undefined ? [] : [version])));
  const drift =
    recorded === null
      ? []
      : hosts.filter(({ version }) => version !== undefined && version !== recorded);
  return [
    `hosts: ${shown}`,
    ...(known.size > 1 ? [`MIXED versions (${[...known].join(', ')})`] : []),
    ...(drift.length > 0
      ? [
          `drift from ${recorded ?? ''}: ${drift.map(({ host, version }) => `${host} on ${version ?? '?'}`).join(', ')}`,
        ]
      : []),
  ].join('; ');
}
