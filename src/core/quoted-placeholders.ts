import { placeholderAt } from './template.js';

/** Where a placeholder sits that a shell would not read as a word of its own. */
export interface QuotedPlaceholder {
  name: string;
  within: 'single quotes' | 'double quotes' | 'a backslash escape';
}

type Context = 'plain' | 'single' | 'double' | 'substitution' | 'backticks';
/** A context, and for `$(...)` how many plain parentheses are open inside it. */
interface Open {
  context: Context;
  parentheses: number;
}

/**
 * Placeholders written inside quotes (or right after a backslash) in a shell command. baton
 * substitutes each value already shell-quoted, so quotes of the template's own around it would
 * end at the value's quote and let the rest of the value run as shell: `install "{{version}}"`
 * becomes `install "'v1$(id)'"`. A `$(...)` or backticks inside double quotes start a new command,
 * where a placeholder is a word again. Heredocs and comments are not told apart from commands:
 * a placeholder there is read as if in a command, which errs toward refusing.
 */
export function quotedPlaceholders(command: string): QuotedPlaceholder[] {
  const found: QuotedPlaceholder[] = [];
  const stack: Open[] = [{ context: 'plain', parentheses: 0 }];
  const open = (context: Context) => stack.push({ context, parentheses: 0 });
  let index = 0;
  while (index < command.length) {
    const top = stack.at(-1) as Open;
    const context = top.context;
    const placeholder = placeholderAt(command, index);
    if (placeholder !== undefined) {
      if (context === 'single' || context === 'double')
        found.push({
          name: placeholder.name,
          within: context === 'single' ? 'single quotes' : 'double quotes',
        });
      index += placeholder.length;
      continue;
    }
    const char = command[index] as string;
    const next = command[index + 1];
    if (context === 'single') {
      if (char === "'") stack.pop();
      index += 1;
      continue;
    }
    if (char === '\\') {
      const escaped = placeholderAt(command, index + 1);
      if (escaped !== undefined) {
        found.push({ name: escaped.name, within: 'a backslash escape' });
        index += 1 + escaped.length;
      } else index += 2;
      continue;
    }
    if (char === '$' && next === '(') {
      open('substitution');
      index += 2;
      continue;
    }
    if (char === '`') {
      if (context === 'backticks') stack.pop();
      else open('backticks');
      index += 1;
      continue;
    }
    if (context === 'double') {
      if (char === '"') stack.pop();
      index += 1;
      continue;
    }
    if (char === "'") open('single');
    else if (char === '"') open('double');
    else if (context === 'substitution' && char === '(') top.parentheses += 1;
    else if (context === 'substitution' && char === ')') {
      if (top.parentheses === 0) stack.pop();
      else top.parentheses -= 1;
    }
    index += 1;
  }
  return found;
}
