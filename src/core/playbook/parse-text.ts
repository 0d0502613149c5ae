import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { Playbook } from './model.js';
import { formatPath, type PathSegment, type Problem } from './problems.js';
import { validatePlaybook, type PlaybookContext } from './validate.js';
import { playbookWarnings } from './warnings.js';

export interface SourceProblem extends Problem {
  source: string;
  line?: number;
}

export type TextResult =
  | {
      ok: true;
      playbook: Playbook;
      /** Settings of an ssh config that baton does not use. */
      notes: SourceProblem[];
      /** Permissive defaults in use, said aloud (see warnings.ts). */
      warnings: SourceProblem[];
    }
  | { ok: false; problems: SourceProblem[] };

/**
 * The line of the key at `segments` if there is one, else of the deepest node that exists along
 * them, so that a missing key points at its parent.
 */
function lineOf(
  document: Document,
  lines: LineCounter,
  segments: PathSegment[],
): number | undefined {
  const parent: unknown =
    segments.length <= 1 ? document.contents : document.getIn(segments.slice(0, -1), true);
  if (isMap(parent)) {
    const pair = parent.items.find(
      (item) => isScalar(item.key) && item.key.value === segments.at(-1),
    );
    if (isScalar(pair?.key) && pair.key.range) return lines.linePos(pair.key.range[0]).line;
  }
  for (let length = segments.length; length >= 0; length--) {
    const node: unknown = document.getIn(segments.slice(0, length), true);
    if (isNode(node) && node.range !== undefined && node.range !== null) {
      return lines.linePos(node.range[0]).line;
    }
  }
  return undefined;
}

/** Parses one playbook's YAML text; `source` names it in every problem (usually the file path). */
export function parsePlaybookText(
  text: string,
  source: string,
  context: PlaybookContext = {},
): TextResult {
  const lines = new LineCounter();
  const document = parseDocument(text, {
    lineCounter: lines,
    uniqueKeys: true,
    prettyErrors: false,
  });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((error) => ({
        source,
        segments: [],
        path: formatPath([]),
        message: `YAML: ${error.message.split('\n')[0] ?? error.code}`,
        line: lines.linePos(error.pos[0]).line,
      })),
    };
  }
  const data: unknown = document.toJS({ maxAliasCount: 50 });
  if (data === null || data === undefined) {
    return {
      ok: false,
      problems: [
        {
          source,
          segments: [],
          path: formatPath([]),
          message: 'the file is empty',
          hint: 'see playbooks/parser.yml for an example',
        },
      ],
    };
  }
  const result = validatePlaybook(data, context);
  // In file order, so the list reads top to bottom alongside the file.
  const located = (items: Problem[]): SourceProblem[] =>
    sortByLine(
      items.map((item) => {
        const line = lineOf(document, lines, item.segments);
        return { ...item, source, ...(line === undefined ? {} : { line }) };
      }),
    );
  if (result.ok)
    return {
      ok: true,
      playbook: result.playbook,
      notes: located(result.notes),
      warnings: located(playbookWarnings(result.playbook)),
    };
  return { ok: false, problems: located(result.problems) };
}

function sortByLine(problems: SourceProblem[]): SourceProblem[] {
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort(
      (a, b) => (a.problem.line ?? Infinity) - (b.problem.line ?? Infinity) || a.index - b.index,
    )
    .map(({ problem }) => problem);
}

export function formatSourceProblem(item: SourceProblem): string {
  const where = item.line === undefined ? item.source : `${item.source}:${item.line}`;
  return `${where}: ${item.path}: ${item.message}${item.hint === undefined ? '' : ` (${item.hint})`}`;
}

/** A warning as `baton validate` prints it: like a problem, said to be a warning. */
export function formatSourceWarning(item: SourceProblem): string {
  return formatSourceProblem({ ...item, message: `warning: ${item.message}` });
}
