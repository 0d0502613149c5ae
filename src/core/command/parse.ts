import { didYouMean } from '../suggest.js';
import {
  checkVersion,
  Cursor,
  duration,
  fail,
  Failure,
  MAX_SCHEDULE_MS,
  NAME_PATTERN,
} from './cursor.js';
import { FILTER_FLAGS, readFilterFlag, readFilterFlags } from './filters.js';
import { resolveTime } from './time.js';
import { tokenize, type Token } from './tokenize.js';
import type { Command, ParseContext, ParseResult, Schedule, TargetFilter, Verb } from './types.js';
import { ALL_USAGE, VERBS } from './usage.js';

export { NAME_PATTERN, MAX_SCHEDULE_MS } from './cursor.js';

const REASON_MAX = 500;

function parseDeploy(cursor: Cursor, service: string): Command {
  const version = checkVersion(cursor.argument('version').text, 'deploy');
  let environment: string | undefined;
  let dryRun = false;
  let rollbackAfterMs: number | undefined;
  const filter: TargetFilter = {};
  const once = (seen: boolean, text: string) => {
    if (seen) fail('duplicate_option', `'${text}' is given twice.`, 'deploy', text);
  };
  while (!cursor.done()) {
    const token = cursor.peek() as Token;
    if (cursor.isKeyword(token, 'to')) {
      once(environment !== undefined, 'to');
      environment = cursor.environment();
      continue;
    }
    if (!cursor.isFlag(token)) cursor.end();
    if (readFilterFlag(cursor, filter)) continue;
    cursor.next();
    const [flag, inlineValue] = token.text.split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag === '--dry-run' && inlineValue === undefined) {
      once(dryRun, flag);
      dryRun = true;
    } else if (flag === '--rollback-after') {
      once(rollbackAfterMs !== undefined, flag);
      const value = inlineValue ?? cursor.next()?.text;
      if (value === undefined)
        fail(
          'missing_argument',
          `'--rollback-after' needs a <duration>, e.g. 30m.`,
          'deploy',
          flag,
        );
      rollbackAfterMs = duration(value, '--rollback-after', 'deploy');
    } else {
      const hint = didYouMean(flag, ['--dry-run', '--rollback-after', ...FILTER_FLAGS]);
      fail('unknown_flag', `Unknown option '${token.text}'.${hint}`, 'deploy', token.text);
    }
  }
  return {
    verb: 'deploy',
    service,
    version,
    dryRun,
    ...(environment === undefined ? {} : { environment }),
    ...(rollbackAfterMs === undefined ? {} : { rollbackAfterMs }),
    ...filter,
  };
}

function parseSchedule(cursor: Cursor, context: ParseContext): Schedule | undefined {
  const keyword = cursor.peek();
  if (cursor.isKeyword(keyword, 'in')) {
    cursor.next();
    const value = cursor.argument('duration').text;
    return { kind: 'in', delayMs: duration(value, 'in', 'rollback') };
  }
  if (!cursor.isKeyword(keyword, 'at')) return undefined;
  cursor.next();
  const text = cursor.argument('time').text;
  const time = resolveTime(text, context.now, context.timeZone);
  if (time.ok) {
    if (time.runAt - context.now > MAX_SCHEDULE_MS) {
      fail(
        'too_far_ahead',
        `'${text}' is more than 30 days ahead; schedule something nearer.`,
        'rollback',
        text,
      );
    }
    return { kind: 'at', runAt: time.runAt };
  }
  if (time.reason === 'bad_zone') {
    fail(
      'invalid_timezone',
      `The configured time zone '${context.timeZone}' is not an IANA zone (e.g. Europe/Berlin); fix BATON_TIMEZONE.`,
      'rollback',
    );
  }
  if (time.reason === 'past') fail('time_in_past', `'${text}' is in the past.`, 'rollback', text);
  return fail(
    'invalid_time',
    `'${text}' is not a time: use 17:00 or an ISO-8601 timestamp such as 2026-12-01T17:00+01:00.`,
    'rollback',
    text,
  );
}

function parseRollback(cursor: Cursor, context: ParseContext): Command {
  const service = cursor.name('service');
  const maybeVersion = cursor.peek();
  const version = cursor.isPlainWord(maybeVersion)
    ? checkVersion((cursor.next() as Token).text, 'rollback')
    : undefined;
  const environment = cursor.environment();
  const schedule = parseSchedule(cursor, context);
  const filter = readFilterFlags(cursor);
  if (schedule !== undefined && (filter.hosts !== undefined || filter.groups !== undefined))
    fail(
      'invalid_filter',
      '--hosts and --groups apply to a rollback run now; a scheduled rollback covers the whole environment.',
      'rollback',
    );
  return {
    verb: 'rollback',
    service,
    ...(version === undefined ? {} : { version }),
    ...(environment === undefined ? {} : { environment }),
    ...(schedule === undefined ? {} : { schedule }),
    ...filter,
  };
}

function parseLock(cursor: Cursor): Command {
  const service = cursor.name('service');
  const environment = cursor.environment();
  const words = cursor.rest().map((token) => token.text);
  const reason = words.join(' ').trim();
  if (reason.length > REASON_MAX) {
    fail(
      'invalid_reason',
      `The reason is ${reason.length} characters; keep it under ${REASON_MAX}.`,
      'lock',
    );
  }
  return {
    verb: 'lock',
    service,
    ...(environment === undefined ? {} : { environment }),
    ...(reason === '' ? {} : { reason }),
  };
}

function parseRestart(cursor: Cursor): Command {
  const service = cursor.name('service');
  const environment = cursor.environment();
  const filter = readFilterFlags(cursor);
  return {
    verb: 'restart',
    service,
    ...(environment === undefined ? {} : { environment }),
    ...filter,
  };
}

/** `<verb> <service> [to <env>]`, shared by several verbs. */
function parseServiceAndEnv<V extends 'history' | 'cancel' | 'unlock'>(cursor: Cursor, verb: V) {
  const service = cursor.name('service');
  const environment = cursor.environment();
  cursor.end();
  return { verb, service, ...(environment === undefined ? {} : { environment }) };
}

function parseVerb(verb: Exclude<Verb, 'deploy'>, cursor: Cursor, context: ParseContext): Command {
  switch (verb) {
    case 'rollback':
      return parseRollback(cursor, context);
    case 'lock':
      return parseLock(cursor);
    case 'restart':
      return parseRestart(cursor);
    case 'history':
    case 'cancel':
    case 'unlock':
      return parseServiceAndEnv(cursor, verb);
    case 'status': {
      const service = cursor.isPlainWord(cursor.peek()) ? cursor.name('service') : undefined;
      cursor.end();
      return { verb, ...(service === undefined ? {} : { service }) };
    }
    case 'schedules':
      cursor.end();
      return { verb };
    case 'help': {
      const word = cursor.next();
      cursor.end();
      if (word === undefined) return { verb };
      const topic = word.text.toLowerCase();
      if (topic === 'deploy' || (VERBS as string[]).includes(topic))
        return { verb, topic: topic as Verb };
      return fail(
        'unexpected_token',
        `There is no help on '${word.text}'.${didYouMean(word.text, [...VERBS, 'deploy'])}`,
        'help',
        word.text,
      );
    }
  }
}

/**
 * Parses the text after `/deploy`. Never throws: anything that is not a command comes back as
 * an error naming what was wrong, with the usage line to show the user.
 */
export function parseCommand(input: string, context: ParseContext): ParseResult {
  const tokenized = tokenize(input);
  if (!tokenized.ok) {
    const fragment = input.slice(tokenized.quoteStart, tokenized.quoteStart + 20);
    return {
      ok: false,
      error: {
        code: 'unterminated_quote',
        message: `The quote at ${fragment} is never closed.`,
        token: fragment,
        usage: ALL_USAGE,
      },
    };
  }
  const [first, ...rest] = tokenized.tokens;
  try {
    if (first === undefined) return { ok: true, command: { verb: 'help' } };
    const word = first.text.toLowerCase();
    if (!first.quoted && (VERBS as string[]).includes(word)) {
      const verb = word as Exclude<Verb, 'deploy'>;
      return { ok: true, command: parseVerb(verb, new Cursor(rest, verb), context) };
    }
    if (!first.quoted && first.text.startsWith('--')) {
      fail(
        'missing_argument',
        `Expected a verb or a service but found '${first.text}'.`,
        undefined,
        first.text,
      );
    }
    if (!NAME_PATTERN.test(word)) {
      fail(
        'unexpected_token',
        `'${first.text}' is neither a verb nor a service name.`,
        undefined,
        first.text,
      );
    }
    if (rest.length === 0) {
      const hint = didYouMean(word, VERBS);
      if (hint !== '')
        fail('unexpected_token', `'${first.text}' is not a verb.${hint}`, undefined, first.text);
      fail('missing_argument', `Missing <version> after '${first.text}'.`, 'deploy', first.text);
    }
    const cursor = new Cursor(tokenized.tokens, 'deploy');
    const service = cursor.name('service');
    return { ok: true, command: parseDeploy(cursor, service) };
  } catch (error) {
    if (error instanceof Failure) return { ok: false, error: error.detail };
    throw error;
  }
}
