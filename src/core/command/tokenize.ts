import { KEYWORDS } from './usage.js';

export interface Token {
  text: string;
  /** A quoted token is always a plain word: never a keyword such as `to`, never a flag. */
  quoted: boolean;
}

export type TokenizeResult = { ok: true; tokens: Token[] } | { ok: false; quoteStart: number };

/** Slack turns straight quotes into curly ones as people type; both open and close a quote. */
const CLOSING_QUOTE: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\u201c': '\u201d',
  '\u201d': '\u201d',
  '\u2018': '\u2019',
  '\u2019': '\u2019',
};
const WHITESPACE = /\s/;

export function tokenize(input: string): TokenizeResult {
  const tokens: Token[] = [];
  let index = 0;
  while (index < input.length) {
    const char = input[index] as string;
    if (WHITESPACE.test(char)) {
      index++;
      continue;
    }
    const closing = CLOSING_QUOTE[char];
    if (closing !== undefined) {
      const start = index;
      let text = '';
      index++;
      while (index < input.length && input[index] !== closing) {
        // Inside quotes a backslash escapes the next character, so a reason may contain quotes.
        if (input[index] === '\\' && index + 1 < input.length) index++;
        text += input[index];
        index++;
      }
      if (index >= input.length) return { ok: false, quoteStart: start };
      index++;
      tokens.push({ text, quoted: true });
      continue;
    }
    let text = '';
    while (index < input.length && !WHITESPACE.test(input[index] as string)) {
      text += input[index];
      index++;
    }
    tokens.push({ text, quoted: false });
  }
  return { ok: true, tokens };
}

/** The inverse of tokenize for one word: quotes only what needs it. */
export function quoteToken(text: string): string {
  const plain =
    text !== '' &&
    !/[\s"'\\\u2018\u2019\u201c\u201d]/.test(text) &&
    !text.startsWith('--') &&
    !KEYWORDS.includes(text.toLowerCase());
  if (plain) return text;
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
