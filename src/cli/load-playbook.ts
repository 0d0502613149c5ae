import {
  loadPlaybookDirectory,
  playbookOptions,
} from '../adapters/playbooks/playbook-directory.js';
import {
  formatSourceProblem,
  unusablePlaybookMessage,
  type Playbook,
} from '../core/playbook/index.js';
import { readInventories } from '../app/inventory.js';
import {
  chooseEnvironment,
  planRollout,
  type Plan,
  type PlanFilter,
} from '../core/rollout/index.js';
import { inventorySource } from '../main/use-case-deps.js';
import { checkFilterOptions } from '../core/command/index.js';
import { didYouMean } from '../core/suggest.js';
import type { CliIo } from './io.js';

/** The playbook of one service, or undefined after saying on stderr why there is none. */
export async function loadServicePlaybook(
  service: string,
  directory: string,
  io: CliIo,
): Promise<Playbook | undefined> {
  const catalog = await loadPlaybookDirectory(directory, playbookOptions(io.env));
  const playbook = catalog.playbooks.get(service);
  const unusable = catalog.unusable.get(service);
  if (playbook === undefined && unusable !== undefined) {
    for (const problem of unusable.problems) io.stderr(`${formatSourceProblem(problem)}\n`);
    io.stderr(`baton: ${unusablePlaybookMessage(unusable)}\n`);
    return undefined;
  }
  if (playbook === undefined) {
    for (const problem of catalog.problems) io.stderr(`${formatSourceProblem(problem)}\n`);
    const known = [...catalog.playbooks.keys()];
    const listing =
      known.length === 0
        ? 'There are no valid playbooks there.'
        : `Services: ${known.join(', ')}.${didYouMean(service, known)}`;
    io.stderr(`baton: no valid playbook for '${service}' in ${directory}. ${listing}\n`);
    return undefined;
  }
  if (catalog.problems.length > 0) {
    io.stderr(
      `note: other playbooks in ${directory} have problems; run \`baton validate ${directory}\`.\n`,
    );
  }
  return playbook;
}

export interface PlanArguments {
  env?: string;
  previous?: string;
  playbooks: string;
  /** A deploy unless said otherwise. */
  kind?: 'deploy' | 'rollback' | 'restart';
  /** `--hosts h1,h2` / `--groups a,b`, as typed. */
  hosts?: string;
  groups?: string;
}

/** --hosts and --groups as the planner takes them; null (after saying why) when they are malformed. */
export function filterOption(options: PlanArguments, io: CliIo): { only?: PlanFilter } | null {
  if (options.hosts === undefined && options.groups === undefined) return {};
  const checked = checkFilterOptions(options);
  if (checked.ok) return { only: checked.filter };
  io.stderr(`baton: ${checked.message}\n`);
  return null;
}

/**
 * The playbook and plan for `<service> <version>` as given on the command line, or undefined after
 * saying why not. Without --previous, `previousFor` may say what is running (from the history).
 */
export async function loadPlan(
  service: string,
  version: string,
  options: PlanArguments,
  io: CliIo,
  previousFor?: (target: { service: string; environment: string }) => Promise<string | null>,
): Promise<{ playbook: Playbook; plan: Plan } | undefined> {
  const filter = filterOption(options, io);
  if (filter === null) return undefined;
  const written = await loadServicePlaybook(service, options.playbooks, io);
  if (written === undefined) return undefined;
  const environment = chooseEnvironment(written, options.env);
  let playbook = written;
  if (typeof environment !== 'string') {
    const inventories = await readInventories(inventorySource(), written, environment);
    if (!inventories.ok) {
      io.stderr(
        `baton: ${service} in ${environment.name} cannot be planned: ${inventories.message}\n`,
      );
      return undefined;
    }
    playbook = inventories.playbook;
  }
  const plan = (previousVersion: string | null) =>
    planRollout(
      playbook,
      {
        kind: options.kind ?? 'deploy',
        service,
        version,
        previousVersion,
        ...(options.env === undefined ? {} : { environment: options.env }),
        ...filter,
      },
      io.now(),
    );
  let result = plan(options.previous ?? null);
  if (result.ok && options.previous === undefined && previousFor !== undefined) {
    result = plan(await previousFor({ service, environment: result.plan.environment }));
  }
  if (!result.ok) {
    io.stderr(`baton: ${result.error.message}\n`);
    return undefined;
  }
  return { playbook, plan: result.plan };
}
