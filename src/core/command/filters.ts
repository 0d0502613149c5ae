import { didYouMean } from '../suggest.js';
import { Cursor, fail, Failure, NAME_PATTERN } from './cursor.js';
import type { Token } from './tokenize.js';
import type { TargetFilter } from './types.js';

/** `--hosts h1,h2` and `--groups a,b`: the part of an environment a deploy, restart or rollback covers. */

export const FILTER_FLAGS = ['--hosts', '--groups'] as const;
const MAX_NAMES = 200;
const HOST_WORD = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?)$/;

function names(flag: '--hosts' | '--groups', value: string, cursor: Cursor): string[] {
  const what = flag === '--hosts' ? 'host' : 'group';
  const list = value.split(',');
  if (list.some((item) => item.trim() === ''))
    fail(
      'invalid_filter',
      `'${flag} ${value}' has an empty ${what} name; separate names with commas and no spaces, e.g. ${flag} ${what === 'host' ? 'parser-01,parser-02' : 'canary,a'}.`,
      cursor.verb,
      value,
    );
  if (list.length > MAX_NAMES)
    fail(
      'invalid_filter',
      `${flag} names ${list.length} ${what}s; at most ${MAX_NAMES}.`,
      cursor.verb,
      value,
    );
  for (const item of list) {
    const ok = flag === '--hosts' ? HOST_WORD.test(item) : NAME_PATTERN.test(item);
    if (!ok)
      fail(
        'invalid_filter',
        flag === '--hosts'
          ? `'${item}' is not a host name: use the host's name in the playbook, its address, or its short name (parser-03).`
          : `'${item}' is not a group name: names start with a lowercase letter and use only a-z, 0-9 and -.`,
        cursor.verb,
        item,
      );
  }
  return [...new Set(list)];
}

/**
 * Reads a filter flag at the cursor into `filter` and says whether it did; any other token is
 * left alone. `--hosts=a,b` works as well as `--hosts a,b`.
 */
export function readFilterFlag(cursor: Cursor, filter: TargetFilter): boolean {
  const token = cursor.peek() as Token | undefined;
  if (!cursor.isFlag(token) || token === undefined) return false;
  const [flag, inlineValue] = token.text.split(/=(.*)/s, 2) as [string, string | undefined];
  if (flag !== '--hosts' && flag !== '--groups') return false;
  cursor.next();
  const key = flag === '--hosts' ? 'hosts' : 'groups';
  if (filter[key] !== undefined)
    fail(
      'duplicate_option',
      `'${flag}' is given twice; list every name in one, comma-separated.`,
      cursor.verb,
      flag,
    );
  const value =
    inlineValue ?? (cursor.isPlainWord(cursor.peek()) ? cursor.next()?.text : undefined);
  if (value === undefined)
    fail(
      'missing_argument',
      `'${flag}' needs a comma-separated list, e.g. ${flag} ${key === 'hosts' ? 'parser-03' : 'canary'}.`,
      cursor.verb,
      flag,
    );
  filter[key] = names(flag, value, cursor);
  return true;
}

/** Reads filter flags until something else comes; then the command must end. */
export function readFilterFlags(cursor: Cursor, others: readonly string[] = []): TargetFilter {
  const filter: TargetFilter = {};
  while (readFilterFlag(cursor, filter));
  const token = cursor.peek();
  if (token !== undefined && cursor.isFlag(token)) {
    const flag = token.text.split('=')[0] ?? token.text;
    fail(
      'unknown_flag',
      `Unknown option '${token.text}'.${didYouMean(flag, [...FILTER_FLAGS, ...others])}`,
      cursor.verb,
      token.text,
    );
  }
  cursor.end();
  return filter;
}

/**
 * `--hosts` / `--groups` given to the `baton` command: the same names the grammar takes, or
 * the message saying what is wrong with them.
 */
export function checkFilterOptions(options: {
  hosts?: string;
  groups?: string;
}): { ok: true; filter: TargetFilter } | { ok: false; message: string } {
  const words = [
    ...(options.hosts === undefined ? [] : ['--hosts', options.hosts]),
    ...(options.groups === undefined ? [] : ['--groups', options.groups]),
  ].map((text) => ({ text, quoted: !text.startsWith('--') }));
  try {
    return { ok: true, filter: readFilterFlags(new Cursor(words, 'deploy')) };
  } catch (error) {
    if (error instanceof Failure) return { ok: false, message: error.detail.message };
    throw error;
  }
}
