import { validatePlaybook, type Playbook } from '../../src/core/playbook/index.js';
import { planRollout, type Plan, type RolloutRequest } from '../../src/core/rollout/index.js';

/** A playbook built from a plain document, failing loudly if the document is not valid. */
export function playbookFrom(document: Record<string, unknown>): Playbook {
  const result = validatePlaybook(document);
  if (!result.ok)
    throw new Error(
      result.problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n'),
    );
  return result.playbook;
}

export interface FleetShape {
  groups: { hosts: number; parallel?: number; gate?: 'manual'; verify?: boolean }[];
  steps?: number;
  onFailure?: 'rollback_group' | 'rollback_all' | 'halt';
  /** before_host / after_host hooks, on the controller and on a load balancer host in turn. */
  hooks?: { before: number; after: number };
}

const hookSteps = (count: number, label: string) =>
  Array.from({ length: count }, (_, index) => ({
    name: `${label}${index}`,
    on: index % 2 === 0 ? 'controller' : 'lb-01',
    run: `${label}-${index} {{host}}`,
  }));

export function fleetPlaybook(shape: FleetShape): Playbook {
  let host = 0;
  return playbookFrom({
    service: 'svc',
    on_failure: shape.onFailure ?? 'rollback_group',
    steps: Array.from({ length: shape.steps ?? 2 }, (_, index) => ({
      name: `s${index}`,
      run: `step-${index} {{version}}`,
    })),
    ...(shape.hooks === undefined
      ? {}
      : {
          before_host: hookSteps(shape.hooks.before, 'before'),
          after_host: hookSteps(shape.hooks.after, 'after'),
        }),
    health: { http: { url: 'http://{{host}}:8080/health' } },
    environments: {
      test: {
        groups: shape.groups.map((group, index) => ({
          name: `g${index}`,
          hosts: Array.from({ length: group.hosts }, () => `h${++host}`),
          parallel: group.parallel ?? 1,
          ...(group.gate === undefined ? {} : { gate: group.gate }),
          ...(group.verify === true ? { verify: { run: 'check {{version}}' } } : {}),
        })),
      },
    },
  });
}

export function planFor(
  playbook: Playbook,
  request: Partial<RolloutRequest> = {},
  now = 1_000,
): Plan {
  const result = planRollout(
    playbook,
    { kind: 'deploy', service: playbook.service, version: 'v2', previousVersion: 'v1', ...request },
    now,
  );
  if (!result.ok) throw new Error(result.error.message);
  return result.plan;
}

/** A playbook whose aliases would expand to 10^8 nodes: ten aliases to ten aliases, eight deep. */
export function aliasBomb(service: string): string {
  const lines = [`service: ${service}`, 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let level = 1; level <= 8; level += 1)
    lines.push(
      `a${level}: &a${level} [${Array(10)
        .fill(`*a${level - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
}
