import type { GateAnswer } from '../app/worker/run-rollout.js';
import type { RolloutState } from '../core/rollout/index.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import type { PlanArguments } from './load-playbook.js';
import { jsonReporter, plainReporter, ttyReporter, type Reporter } from './progress/reporters.js';

/** How `baton deploy` talks to the terminal: its options, exit statuses, progress and questions. */

export interface DeployOptions extends PlanArguments {
  yes?: boolean;
  json?: boolean;
  worker?: boolean;
  rollbackAfter?: string;
}

export const OUTCOME_EXIT: Record<RolloutState['status'], number> = {
  succeeded: EXIT.ok,
  rolled_back: EXIT.rolledBack,
  halted: EXIT.rolledBack,
  rollback_failed: EXIT.needsPerson,
  gave_up: EXIT.needsPerson,
  running: EXIT.needsPerson,
  awaiting_gate: EXIT.needsPerson,
  draining: EXIT.needsPerson,
  rolling_back: EXIT.needsPerson,
};

export function reporterFor(options: DeployOptions, io: CliIo): Reporter {
  if (options.json === true) return jsonReporter(io.stdout, io.worker ?? 'baton');
  return io.interactive === true ? ttyReporter(io.stdout, io.now) : plainReporter(io.stdout);
}

export async function confirm(io: CliIo, question: string): Promise<boolean> {
  if (io.ask === undefined) return false;
  return /^y(es)?$/i.test((await io.ask(`${question} [y/N] `)).trim());
}

/** Answers a manual gate: yes with --yes, by asking at a terminal, or no when there is no one to ask. */
export async function answerGate(
  group: string,
  options: DeployOptions,
  io: CliIo,
): Promise<GateAnswer> {
  if (options.yes === true) return { continue: true, by: 'terminal (--yes)' };
  if (io.interactive !== true || io.ask === undefined) {
    io.stderr(
      `baton: ${group} waits for Continue, and there is no terminal to ask: stopping. Pass --yes to continue past gates.\n`,
    );
    return { continue: false, by: 'terminal (no one to ask)' };
  }
  const go = await confirm(io, `${group} is healthy. Continue to the next group?`);
  return { continue: go, by: 'terminal' };
}
