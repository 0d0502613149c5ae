import type { Playbook } from './model.js';
import { problem, type Problem } from './problems.js';

/**
 * Defaults that let more people act than an author may mean: `baton validate` says each aloud
 * (and `--strict` refuses them). A playbook with them is valid, and does what they say.
 */
export function playbookWarnings(playbook: Playbook): Problem[] {
  const warnings: Problem[] = [];
  for (const environment of playbook.environments) {
    if (environment.deployers === undefined)
      warnings.push(
        problem(
          ['environments', environment.name, 'deployers'],
          `not set, so anyone in the channel may deploy ${playbook.service} to ${environment.name}`,
          "list who may, e.g. deployers: ['@deploy', U012ABCDEF]",
        ),
      );
    if (environment.approval.required && environment.approval.approvers === undefined)
      warnings.push(
        problem(
          ['environments', environment.name, 'approval', 'approvers'],
          `not set, so anyone but the requester may approve a deploy to ${environment.name}`,
          "list who may, e.g. approvers: ['@sre']",
        ),
      );
  }
  return warnings;
}
