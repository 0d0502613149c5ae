import { describePlan, planRollout } from '../core/rollout/index.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { loadServicePlaybook } from './load-playbook.js';

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
  const playbook = await loadServicePlaybook(service, options.playbooks, io);
  if (playbook === undefined) return EXIT.badInput;
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
