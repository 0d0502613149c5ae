import { loadPlaybookDirectory } from '../adapters/playbooks/playbook-directory.js';
import { formatSourceProblem } from '../core/playbook/index.js';
import { describePlan, planRollout } from '../core/rollout/index.js';
import { didYouMean } from '../core/suggest.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';

export interface PlanOptions {
  env?: string;
  json?: boolean;
  playbooks: string;
  previous?: string;
}

export async function planCommand(
  service: string,
  version: string,
  options: PlanOptions,
  io: CliIo,
): Promise<number> {
  const catalog = await loadPlaybookDirectory(options.playbooks);
  const playbook = catalog.playbooks.get(service);
  if (playbook === undefined) {
    for (const problem of catalog.problems) io.stderr(`${formatSourceProblem(problem)}\n`);
    const known = [...catalog.playbooks.keys()];
    const listing =
      known.length === 0
        ? 'There are no valid playbooks there.'
        : `Services: ${known.join(', ')}.${didYouMean(service, known)}`;
    io.stderr(`baton: no valid playbook for '${service}' in ${options.playbooks}. ${listing}\n`);
    return EXIT.badInput;
  }
  if (catalog.problems.length > 0) {
    io.stderr(
      `note: other playbooks in ${options.playbooks} have problems; run \`baton validate ${options.playbooks}\`.\n`,
    );
  }
  const result = planRollout(
    playbook,
    {
      kind: 'deploy',
      service,
      version,
      previousVersion: options.previous ?? null,
      ...(options.env === undefined ? {} : { environment: options.env }),
    },
    io.now(),
  );
  if (!result.ok) {
    io.stderr(`baton: ${result.error.message}\n`);
    return EXIT.badInput;
  }
  io.stdout(
    options.json === true
      ? `${JSON.stringify(result.plan, null, 2)}\n`
      : `${describePlan(result.plan)}\n`,
  );
  return EXIT.ok;
}
