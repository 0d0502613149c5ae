import type { z } from 'zod';
import { closest } from '../suggest.js';
import { keysAt } from './schema-keys.js';
import { PlaybookSchema } from './schema.js';

export type PathSegment = string | number;

export interface Problem {
  /** Where in the document, as segments (for finding the line) and as `a.b[1].c` text. */
  segments: PathSegment[];
  path: string;
  message: string;
  hint?: string;
}

export function formatPath(segments: readonly PathSegment[]): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text === '' ? '(top level)' : text;
}

export function problem(segments: PathSegment[], message: string, hint?: string): Problem {
  return { segments, path: formatPath(segments), message, ...(hint === undefined ? {} : { hint }) };
}

const TYPE_HINTS: Record<string, string> = {
  array: 'write a YAML list, e.g. [a, b] or one "- item" per line',
  object: 'write a YAML mapping of key: value lines',
  string: 'quote the value if YAML reads it as something else',
};

/** Turns one zod issue into problems a person can act on. */
export function fromZodIssue(issue: z.core.$ZodIssue): Problem[] {
  const segments = issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key));
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const guess = closest(key, keysAt(PlaybookSchema, segments));
        return problem(
          [...segments, key],
          `unknown key '${key}'`,
          guess === undefined ? 'remove it' : `did you mean '${guess}'?`,
        );
      });
    case 'invalid_type': {
      const received =
        issue.input === undefined
          ? 'nothing'
          : Array.isArray(issue.input)
            ? 'a list'
            : issue.input === null
              ? 'null'
              : typeof issue.input;
      if (issue.input === undefined)
        return [problem(segments, `'${String(segments.at(-1))}' is required (${issue.expected})`)];
      return [
        problem(
          segments,
          `expected ${issue.expected}, got ${received}`,
          TYPE_HINTS[issue.expected],
        ),
      ];
    }
    case 'invalid_value':
      return [problem(segments, `must be one of: ${issue.values.map(String).join(', ')}`)];
    case 'invalid_union': {
      // Report the branch the author was evidently writing: the one that got past its type check.
      const branches = issue.errors.filter(
        (branch) =>
          !branch.every((inner) => inner.code === 'invalid_type' && inner.path.length === 0),
      );
      const chosen = branches[0] ?? [];
      if (chosen.length === 0) return [problem(segments, issue.message)];
      return chosen.flatMap((inner) =>
        fromZodIssue({ ...inner, path: [...issue.path, ...inner.path] }),
      );
    }
    default:
      return [problem(segments, issue.message)];
  }
}

export function formatProblem(item: Problem): string {
  return `${item.path}: ${item.message}${item.hint === undefined ? '' : ` (${item.hint})`}`;
}
