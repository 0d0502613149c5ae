import { scrub, urlSecrets } from '../adapters/log/redact.js';
import type { Config } from '../config/env.js';
import type { CliIo } from './io.js';

// What every command needs of its output before it starts, apart from the process logger (and
// its packages), which only long-running processes load.

/** The secret values a configuration holds: Slack's tokens and signing secret, Redis's password. */
export function configuredSecrets(config: Config): string[] {
  return [
    config.SLACK_BOT_TOKEN,
    config.SLACK_APP_TOKEN,
    config.SLACK_SIGNING_SECRET,
    ...(config.REDIS_URL === undefined ? [] : urlSecrets(config.REDIS_URL)),
    ...(config.SLACK_API_URL === undefined ? [] : urlSecrets(config.SLACK_API_URL)),
  ].filter((secret): secret is string => secret !== undefined);
}

/** The terminal, with every secret taken out of what is written to it. */
export function redactedIo(io: CliIo): CliIo {
  return {
    ...io,
    stdout: (text) => io.stdout(scrub(text)),
    stderr: (text) => io.stderr(scrub(text)),
  };
}
