import { DURATION_EXAMPLES, parseDuration } from '../duration.js';
import { didYouMean } from '../suggest.js';
import { resolveTime } from './time.js';
import { tokenize, type Token } from './tokenize.js';
import type {
  Command,
  CommandError,
  CommandErrorCode,
  ParseContext,
  ParseResult,
  Schedule,
  Verb,
} from './types.js';
import { ALL_USAGE, KEYWORDS, USAGE, VERBS } from './usage.js';

export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
const VERSION_MAX = 128;
const REASON_MAX = 500;
/** Scheduling further ahead than this is almost always a typo (`in 30h` for `in 30m`). */
export const MAX_SCHEDULE_MS = 30 * 86_400_000;

class Failure extends Error {
  constructor(readonly detail: CommandError) {
    super(detail.message);
  }
}

function fail(
  code: CommandErrorCode,
  message: string,
  verb: Verb | undefined,
  token?: string,
): never {
  const usage = verb === undefined ? ALL_USAGE : USAGE[verb];
  throw new Failure({ code, message, usage, ...(token === undefined ? {} : { token }) });
}

/** Walks the tokens of one command, so every error can name the token it stopped at. */
class Cursor {
  private index = 0;
  constructor(
    private readonly tokens: Token[],
    readonly verb: Verb,
  ) {}

  peek(): Token | undefined {
    return this.tokens[this.index];
  }
  next(): Token | undefined {
    return this.tokens[this.index++];
  }
  done(): boolean {
    return this.index >= this.tokens.length;
  }
  rest(): Token[] {
    const rest = this.tokens.slice(this.index);
    this.index = this.tokens.length;
    return rest;
  }
  isKeyword(token: Token | undefined, keyword: string): boolean {
    return token !== undefined && !token.quoted && token.text.toLowerCase() === keyword;
  }
  isFlag(token: Token | undefined): boolean {
    return token !== undefined && !token.quoted && token.text.startsWith('--');
  }
  isPlainWord(token: Token | undefined): boolean {
    return (
      token !== undefined &&
      !this.isFlag(token) &&
      (token.quoted || !KEYWORDS.includes(token.text.toLowerCase()))
    );
  }

  /** A required positional argument such as `<service>`. */
  argument(name: string): Token {
    const token = this.next();
    if (token === undefined) fail('missing_argument', `Missing <${name}>.`, this.verb);
    if (!this.isPlainWord(token)) {
      fail(
        'missing_argument',
        `Expected <${name}> but found '${token.text}'.`,
        this.verb,
        token.text,
      );
    }
    return token;
  }

  name(kind: 'service' | 'env'): string {
    const token = this.argument(kind);
    return checkName(token.text, kind, this.verb);
  }

  /** An optional `to <env>`. */
  environment(): string | undefined {
    if (!this.isKeyword(this.peek(), 'to')) return undefined;
    this.next();
    return this.name('env');
  }

  end(): void {
    const token = this.peek();
    if (token === undefined) return;
    if (this.isFlag(token)) {
      fail(
        'unknown_flag',
        `'${token.text}' is not an option of ${this.verb}.`,
        this.verb,
        token.text,
      );
    }
    fail('unexpected_token', `Unexpected '${token.text}'.`, this.verb, token.text);
  }
}

function checkName(text: string, kind: 'service' | 'env', verb: Verb): string {
  if (KEYWORDS.includes(text)) {
    fail('invalid_name', `'${text}' is a keyword of the grammar, not a ${kind} name.`, verb, text);
  }
  if (NAME_PATTERN.test(text)) return text;
  const hint = NAME_PATTERN.test(text.toLowerCase())
    ? ` Names are lowercase: '${text.toLowerCase()}'.`
    : ' Names start with a letter and use only a-z, 0-9 and -, up to 40 characters.';
  return fail('invalid_name', `'${text}' is not a valid ${kind} name.${hint}`, verb, text);
}

function checkVersion(text: string, verb: Verb): string {
  if (text.length === 0 || text.length > VERSION_MAX || /[\u0000-\u001f\u007f]/.test(text)) {
    fail(
      'invalid_version',
      `'${text}' is not a version: use 1 to ${VERSION_MAX} printable characters.`,
      verb,
      text,
    );
  }
  return text;
}

function duration(text: string, what: string, verb: Verb): number {
  const value = parseDuration(text.toLowerCase());
  if (value === undefined || value === 0) {
    fail(
      'invalid_duration',
      `'${text}' is not a duration for ${what}: use ${DURATION_EXAMPLES}.`,
      verb,
      text,
    );
  }
  if (value > MAX_SCHEDULE_MS) {
    fail(
      'too_far_ahead',
      `'${text}' is more than 30 days ahead; schedule something nearer.`,
      verb,
      text,
    );
  }
  return value;
}

function parseDeploy(cursor: Cursor, service: string): Command {
  const version = checkVersion(cursor.argument('version').text, 'deploy');
  let environment: string | undefined;
  let dryRun = false;
  let rollbackAfterMs: number | undefined;
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
      const hint = didYouMean(flag, ['--dry-run', '--rollback-after']);
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
  cursor.end();
  return {
    verb: 'rollback',
    service,
    ...(version === undefined ? {} : { version }),
    ...(environment === undefined ? {} : { environment }),
    ...(schedule === undefined ? {} : { schedule }),
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

/** `<verb> <service> [to <env>]`, shared by several verbs. */
function parseServiceAndEnv<V extends 'restart' | 'history' | 'cancel' | 'unlock'>(
  cursor: Cursor,
  verb: V,
) {
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
