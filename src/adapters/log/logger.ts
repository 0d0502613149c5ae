import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type * as PinoPretty from 'pino-pretty';
import { scrub } from './redact.js';

export type { Logger } from 'pino';
export { scrub } from './redact.js';

/** Field paths never written, whatever their value. */
const REDACTED_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  'privateKey',
  '*.privateKey',
  'passphrase',
  '*.passphrase',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  '*.SLACK_BOT_TOKEN',
  '*.SLACK_APP_TOKEN',
  '*.SLACK_SIGNING_SECRET',
];

export interface LogOptions {
  level: string;
  /** Human-readable lines (a terminal) instead of one JSON object per line. */
  pretty: boolean;
  write(line: string): void;
  /** Values never to be written, wherever they appear, besides those registered (redact.ts). */
  secrets: readonly string[];
  /** More field paths to redact (BATON_LOG_REDACT). */
  redact?: readonly string[];
  /** Fields on every line, e.g. the worker name. */
  base?: Record<string, string>;
}

/**
 * The log of a long-running baton process: JSON lines by default, pretty in a terminal, with
 * secrets removed both by field and by value.
 */
export function createLogger(options: LogOptions): Logger {
  // Required only for a terminal: pino-pretty is most of the files a command would load otherwise.
  const prettify = options.pretty
    ? (createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty).prettyFactory({
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
      })
    : undefined;
  // Strings at any depth of plain objects and arrays; errors and other objects as they are.
  const clean = (value: unknown, depth = 0): unknown => {
    if (typeof value === 'string') return scrub(value, options.secrets);
    if (depth > 6 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => clean(item, depth + 1));
    if (Object.getPrototypeOf(value) !== Object.prototype) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, clean(item, depth + 1)]),
    );
  };
  return pino(
    {
      level: options.level,
      base: options.base ?? {},
      redact: { paths: [...REDACTED_PATHS, ...(options.redact ?? [])], censor: '[redacted]' },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => clean(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => clean(arg)) as Parameters<typeof method>);
        },
      },
    },
    {
      // The whole line once more: errors are serialized by pino itself, after the hooks above.
      write: (line: string) => {
        const clean = scrub(line, options.secrets);
        options.write(prettify === undefined ? clean : prettify(clean));
      },
    },
  );
}
