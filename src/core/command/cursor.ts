import { DURATION_EXAMPLES, parseDuration } from '../duration.js';
import type { Token } from './tokenize.js';
import type { CommandError, CommandErrorCode, Verb } from './types.js';
import { ALL_USAGE, KEYWORDS, USAGE } from './usage.js';

export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
const VERSION_MAX = 128;
/** Scheduling further ahead than this is almost always a typo (`in 30h` for `in 30m`). */
export const MAX_SCHEDULE_MS = 30 * 86_400_000;

export class Failure extends Error {
  constructor(readonly detail: CommandError) {
    super(detail.message);
  }
}

export function fail(
  code: CommandErrorCode,
  message: string,
  verb: Verb | undefined,
  token?: string,
): never {
  const usage = verb === undefined ? ALL_USAGE : USAGE[verb];
  throw new Failure({ code, message, usage, ...(token === undefined ? {} : { token }) });
}

/** Walks the tokens of one command, so every error can name the token it stopped at. */
export class Cursor {
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

export function checkName(text: string, kind: 'service' | 'env', verb: Verb): string {
  if (KEYWORDS.includes(text)) {
    fail('invalid_name', `'${text}' is a keyword of the grammar, not a ${kind} name.`, verb, text);
  }
  if (NAME_PATTERN.test(text)) return text;
  const hint = NAME_PATTERN.test(text.toLowerCase())
    ? ` Names are lowercase: '${text.toLowerCase()}'.`
    : ' Names start with a letter and use only a-z, 0-9 and -, up to 40 characters.';
  return fail('invalid_name', `'${text}' is not a valid ${kind} name.${hint}`, verb, text);
}

export function checkVersion(text: string, verb: Verb): string {
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

export function duration(text: string, what: string, verb: Verb): number {
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
