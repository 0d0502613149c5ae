import { describePlan } from '../core/rollout/index.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { loadPlan, type PlanArguments } from './load-playbook.js';

export interface PlanOptions extends PlanArguments {
  json?: boolean;
}

export async function planCommand(
  service: string,
  version: string,
  options: PlanOptions,
  io: CliIo,
): Promise<number> {
  const loaded = await loadPlan(service, version, options, io);
  if (loaded === undefined) return EXIT.badInput;
  io.stdout(
    options.json === true
      ? `${JSON.stringify(loaded.plan, null, 2)}\n`
      : `${describePlan(loaded.plan)}\n`,
  );
  return EXIT.ok;
}
