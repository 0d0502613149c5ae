import { format, inspect } from 'node:util';

/**
 * Taking secrets out of what baton shows: log lines, terminal output, chat messages, and the
 * errors of the libraries it uses (ioredis, ssh2, fetch), which quote what they were given.
 */

/** The configured secret values, registered once the configuration is read. */
const registered = new Set<string>();

/** Shorter values are not searched for: they would match ordinary words. */
const SHORTEST_SECRET = 6;

const REDACTED = '[redacted]';

/** Secrets that can turn up inside text (an error message, a URL), whoever wrote it. */
const SECRET_PATTERNS: [RegExp, string][] = [
  [/\bxox[abpors]-[A-Za-z0-9-]+/g, 'xox?-[redacted]'],
  [/\bxapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]'],
  // Up to the last @ of the authority: a password may hold an @ of its own, unencoded.
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s"'<>]*@/gi, `$1${REDACTED}@`],
  [/([?&](?:password|pass|pwd)=)[^&#\s"'<>]*/gi, `$1${REDACTED}`],
  [
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    '[redacted key]',
  ],
];

/** Adds values never to be shown, wherever they appear (tokens, the signing secret, passwords). */
export function registerSecrets(values: Iterable<string | undefined>): void {
  for (const value of values)
    if (value !== undefined && value.length >= SHORTEST_SECRET) registered.add(value);
}

/** Text with every registered (or given) secret value and anything shaped like a secret taken out. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let clean = text;
  for (const secret of [...secrets, ...registered])
    if (secret.length >= SHORTEST_SECRET) clean = clean.split(secret).join(REDACTED);
  for (const [pattern, replacement] of SECRET_PATTERNS) clean = clean.replace(pattern, replacement);
  return clean;
}

/** Every string inside plain data (a chat message's blocks, say) scrubbed; the shape kept. */
export function scrubDeep<T>(value: T): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => scrubDeep(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, scrubDeep(item)]),
  ) as T;
}

const SECRET_PARAMETERS = /^(?:password|pass|pwd)$/i;

/** The user name, password and password parameters of a URL, as written and as decoded. */
export function urlSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const values = [parsed.username, parsed.password].flatMap((value) => {
    if (value === '') return [];
    try {
      return [value, decodeURIComponent(value)];
    } catch {
      return [value];
    }
  });
  for (const [key, value] of parsed.searchParams)
    if (SECRET_PARAMETERS.test(key)) values.push(value);
  // `default` is Redis's user name when none is set: not a secret, and an ordinary word.
  return [...new Set(values)].filter((value) => value !== 'default');
}

/** A URL as it may be shown: user, password and password parameters replaced by `***`. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? '';
    return `${scheme}//[a URL that could not be read, not shown]`;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = '***';
    parsed.password = '';
  }
  for (const key of [...parsed.searchParams.keys()])
    if (SECRET_PARAMETERS.test(key)) parsed.searchParams.set(key, '***');
  return parsed.toString();
}

/**
 * What libraries print on their own (bullmq writes Redis errors to the console, with the AUTH
 * command's arguments: the password) and the report of an error nobody caught, scrubbed like
 * everything else. For a process's entry point only.
 */
export function scrubProcessOutput(): void {
  const to =
    (stream: NodeJS.WriteStream) =>
    (...parts: unknown[]) =>
      void stream.write(`${scrub(format(...parts))}\n`);
  console.log = console.info = console.debug = to(process.stdout);
  console.warn = console.error = to(process.stderr);
  process.on('uncaughtException', (error) => {
    process.stderr.write(`${scrub(inspect(error))}\n`);
    process.exit(1);
  });
}
