import { crossFieldProblems } from './cross-field.js';
import type { Playbook } from './model.js';
import { fromZodIssue, type Problem } from './problems.js';
import { PlaybookSchema } from './schema.js';
import { toModel } from './to-model.js';

export type ValidationResult =
  { ok: true; playbook: Playbook } | { ok: false; problems: Problem[] };

/** Validates parsed YAML/JSON data. Reports every problem at once, each with its path. */
export function validatePlaybook(document: unknown): ValidationResult {
  const parsed = PlaybookSchema.safeParse(document, { reportInput: true });
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap((issue) => fromZodIssue(issue))),
    ...crossFieldProblems(document),
  ];
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, playbook: toModel(parsed.data) };
}
