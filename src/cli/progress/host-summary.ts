import { stepsOf, type RolloutState } from '../../core/rollout/index.js';

/**
 * Where every host was left, so that a stopped rollout never leaves a host half-done without
 * saying which: on the new version, back on the old one, untouched, or part-way.
 */
export function hostSummary(state: RolloutState): string[] {
  const { plan } = state;
  const previous = plan.groups[0]?.hosts[0]?.rollback?.version ?? 'the previous version';
  const buckets = new Map<string, string[]>();
  const add = (label: string, host: string) =>
    buckets.set(label, [...(buckets.get(label) ?? []), host]);
  for (const group of state.groups) {
    const planned = plan.groups.find((candidate) => candidate.name === group.name);
    for (const host of group.hosts) {
      const procedure = planned?.hosts.find((candidate) => candidate.name === host.name)?.[
        host.pass
      ];
      const steps = stepsOf(procedure);
      const skipped = planned?.hosts.find((candidate) => candidate.name === host.name)?.skip;
      if (skipped === true) add(`already on ${plan.version} (left out)`, host.name);
      else if (!host.touched) add('untouched', host.name);
      else if (host.phase === 'healthy')
        add(host.pass === 'rollback' ? `back on ${previous}` : `on ${plan.version}`, host.name);
      else {
        const pass = host.pass === 'rollback' ? 'rolling back, ' : '';
        const where =
          host.phase === 'checking' || host.step >= steps.length
            ? 'after its steps, not healthy'
            : `at ${steps[host.step]?.name ?? `step ${host.step + 1}`}`;
        add(
          'NEEDS A LOOK (left part-way)',
          `${host.name} (${pass}${host.phase} ${where}${host.error === undefined ? '' : `: ${host.error}`})`,
        );
      }
    }
  }
  for (const left of plan.notUpdated ?? []) add('not updated', left.host);
  return [...buckets.entries()].map(([label, hosts]) => `  ${label}: ${hosts.join(', ')}`);
}
