import { pino, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type { Logger } from 'pino';

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

/** Secrets that can turn up inside text (an error message, a URL), whoever wrote it. */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/\bxox[abpors]-[A-Za-z0-9-]+/g, 'xox?-[redacted]'],
  [/\bxapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^@/\s]*@/gi, '$1[redacted]@'],
  [
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    '[redacted key]',
  ],
];

/** Text with every known secret value and anything shaped like a token or key taken out. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let clean = text;
  for (const secret of secrets)
    if (secret.length >= 6) clean = clean.split(secret).join('[redacted]');
  for (const [pattern, replacement] of SECRET_PATTERNS) clean = clean.replace(pattern, replacement);
  return clean;
}

export interface LogOptions {
  level: string;
  /** Human-readable lines (a terminal) instead of one JSON object per line. */
  pretty: boolean;
  write(line: string): void;
  /** Values (tokens, the signing secret) never to be written, wherever they appear. */
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
  const prettify = options.pretty
    ? prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
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
    { write: (line: string) => options.write(prettify === undefined ? line : prettify(line)) },
  );
}
