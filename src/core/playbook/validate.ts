import { crossFieldProblems } from './cross-field.js';
import type { Playbook } from './model.js';
import { fromZodIssue, type Problem } from './problems.js';
import { resolveReach, type SshConfigView } from './reach.js';
import { PlaybookSchema } from './schema.js';
import { toModel } from './to-model.js';

/** What a playbook is read with besides itself. */
export interface PlaybookContext {
  /** The OpenSSH client config its hosts are looked up in (`ssh.config`, or BATON_SSH_CONFIG). */
  sshConfig?: SshConfigView;
}

export type ValidationResult =
  { ok: true; playbook: Playbook; notes: Problem[] } | { ok: false; problems: Problem[] };

/**
 * Validates parsed YAML/JSON data. Reports every problem at once, each with its path; `notes` are
 * what is fine but worth saying (settings of the ssh config that baton does not use).
 */
export function validatePlaybook(
  document: unknown,
  context: PlaybookContext = {},
): ValidationResult {
  const parsed = PlaybookSchema.safeParse(document, { reportInput: true });
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap((issue) => fromZodIssue(issue))),
    ...crossFieldProblems(document),
  ];
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  const reach = resolveReach(parsed.data, context.sshConfig);
  if (reach.problems.length > 0) return { ok: false, problems: reach.problems };
  return { ok: true, playbook: toModel(parsed.data, reach), notes: reach.notes };
}
