import { z } from 'zod';
import { isValidTimeZone } from '../core/command/index.js';

/** The environment variables baton reads (a contract: see DESIGN.md §5). */
const EnvSchema = z.object({
  SLACK_BOT_TOKEN: z
    .string()
    .startsWith('xoxb-', { message: 'a bot token starts with xoxb-' })
    .optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_APP_TOKEN: z
    .string()
    .startsWith('xapp-', { message: 'an app-level token starts with xapp-' })
    .optional(),
  SLACK_API_URL: z.url({ message: 'must be a URL such as http://127.0.0.1:3999/api/' }).optional(),
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, { message: 'must start with redis:// or rediss://' })
    .refine((value) => URL.canParse(value), {
      // Never the value itself: it may hold the password.
      message:
        'is not a URL that can be read: percent-encode / ? # and spaces in the user name and password (%2F for /)',
    })
    .optional(),
  /** Prefix of every Redis key and queue, so several installations can share one Redis. */
  BATON_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'use letters, digits and _ . : - (at most 64)' })
    .default('baton'),
  /** Without REDIS_URL: where the embedded database (and local mode's demo fleet) live. */
  BATON_DATA_DIR: z.string().min(1).default('.data'),
  BATON_PLAYBOOKS: z.string().min(1).default('playbooks'),
  BATON_SSH_KEY: z.string().min(1).optional(),
  BATON_KNOWN_HOSTS: z.string().min(1).optional(),
  /** An OpenSSH client config for playbooks without ssh.config: their hosts may be its aliases. */
  BATON_SSH_CONFIG: z.string().min(1).optional(),
  /** Port of /healthz and /metrics for worker, serve and start; unset: not served; 0: any free port. */
  BATON_OPS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  /** Address /healthz and /metrics listen on; this machine only unless set. */
  BATON_OPS_HOST: z
    .string()
    .refine(
      (value) =>
        z.ipv4().safeParse(value).success ||
        z.ipv6().safeParse(value).success ||
        z.hostname().safeParse(value).success,
      {
        message:
          'must be an address to listen on: 127.0.0.1 (this machine only), an address of this machine, or 0.0.0.0 / :: (every interface)',
      },
    )
    .default('127.0.0.1'),
  BATON_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  /** auto: human-readable in a terminal, JSON lines otherwise. */
  BATON_LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  /** More log fields to redact, comma-separated paths such as `detail.secret,*.apiKey`. */
  BATON_LOG_REDACT: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((path) => path.trim())
        .filter((path) => path !== ''),
    )
    .default([]),
  BATON_TIMEZONE: z
    .string()
    .default('UTC')
    .refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin or UTC' }),
});

export type Config = z.infer<typeof EnvSchema>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Reads configuration from an environment map; reports every bad variable at once. */
export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  // An empty variable is treated as unset, the way shells and .env files usually mean it.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = EnvSchema.safeParse(present);
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
  };
}

/** What the Slack app needs from the configuration, checked once for every command that runs it. */
export interface SlackAppSettings {
  botToken: string;
  signingSecret?: string;
  appToken?: string;
  apiUrl?: string;
  port: number;
}

export function slackAppSettings(config: Config): SlackAppSettings | { problem: string } {
  if (config.SLACK_BOT_TOKEN === undefined)
    return {
      problem:
        'set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) to run the Slack app; see .env.example and manifest.yml',
    };
  if (config.SLACK_APP_TOKEN === undefined && config.SLACK_SIGNING_SECRET === undefined)
    return {
      problem:
        'set SLACK_SIGNING_SECRET (HTTP requests from Slack are verified with it) or SLACK_APP_TOKEN (Socket Mode)',
    };
  return {
    botToken: config.SLACK_BOT_TOKEN,
    port: config.PORT,
    ...(config.SLACK_SIGNING_SECRET === undefined
      ? {}
      : { signingSecret: config.SLACK_SIGNING_SECRET }),
    ...(config.SLACK_APP_TOKEN === undefined ? {} : { appToken: config.SLACK_APP_TOKEN }),
    ...(config.SLACK_API_URL === undefined ? {} : { apiUrl: config.SLACK_API_URL }),
  };
}
