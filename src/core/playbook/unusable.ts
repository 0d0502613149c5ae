import type { SourceProblem } from './parse-text.js';

/** A playbook file that cannot be used, and why: what a request for its service is told. */
export interface UnusablePlaybook {
  source: string;
  problems: SourceProblem[];
}

function describeProblem(item: SourceProblem): string {
  const line = item.line === undefined ? '' : `line ${item.line}: `;
  const path = item.path === '(top level)' || item.path === '(file)' ? '' : `${item.path}: `;
  return `${line}${path}${item.message}${item.hint === undefined ? '' : ` (${item.hint})`}`;
}

/** `playbooks/parser.yml cannot be used: <its first problem>. Fix it and run `baton validate`.` */
export function unusablePlaybookMessage(unusable: UnusablePlaybook): string {
  const [first, ...rest] = unusable.problems;
  const why = first === undefined ? 'it has problems' : describeProblem(first);
  const more =
    rest.length === 0 ? '' : ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'})`;
  return `${unusable.source} cannot be used: ${why}${more}. Fix it and run \`baton validate\`.`;
}
