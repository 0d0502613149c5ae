import { createLogger, type Logger } from '../adapters/log/logger.js';
import type { BatonMetrics } from '../adapters/ops/metrics.js';
import { startOpsServer, type OpsServer, type ReadinessCheck } from '../adapters/ops/ops-server.js';
import type { RedisTrouble } from '../adapters/queue/redis-connection.js';
import type { Config } from '../config/env.js';
import { parseDuration } from '../core/duration.js';
import type { CliIo } from './io.js';
import { AFTER_DATA_DIR_LOST } from './data-dir-lost.js';
import { configuredSecrets } from './redacted-io.js';

/** The log of a long-running process (worker, serve, start), secrets taken out. */
export function processLogger(config: Config, io: CliIo, name: string): Logger {
  const pretty =
    config.BATON_LOG_FORMAT === 'pretty' ||
    (config.BATON_LOG_FORMAT === 'auto' && io.interactive === true);
  return createLogger({
    level: config.BATON_LOG_LEVEL,
    pretty,
    write: (line) => io.stdout(line.endsWith('\n') ? line : `${line}\n`),
    secrets: configuredSecrets(config),
    redact: config.BATON_LOG_REDACT,
    base: { process: name },
  });
}

/** Redis's comings and goings as log lines, with the change as fields (`redis: down|back|error`). */
export function logRedisTrouble(log: Logger): RedisTrouble {
  return (message, fields) =>
    fields.redis === 'back' ? log.info(fields, message) : log.warn(fields, message);
}

/** Starts /healthz and /metrics when BATON_OPS_PORT is set, on BATON_OPS_HOST, and says where. */
export async function startOperations(
  config: Config,
  log: Logger,
  checks: readonly ReadinessCheck[],
  metrics: BatonMetrics,
): Promise<OpsServer | undefined> {
  if (config.BATON_OPS_PORT === undefined) return undefined;
  const server = await startOpsServer(
    { host: config.BATON_OPS_HOST, port: config.BATON_OPS_PORT },
    checks,
    metrics.registry,
  );
  const where = server.host.includes(':')
    ? `[${server.host}]:${server.port}`
    : `${server.host}:${server.port}`;
  log.info(
    { host: server.host, port: server.port },
    `operations: /healthz and /metrics on ${where}`,
  );
  return server;
}

/** `--grace`: how long steps in flight may take on SIGTERM, or undefined after saying what is wrong. */
export function graceMs(text: string, io: CliIo): number | undefined {
  const ms = parseDuration(text);
  if (ms === undefined)
    io.stderr(`baton: --grace '${text}' is not a duration; write e.g. 30s or 2m.\n`);
  return ms;
}

/**
 * Waits until the process is told to stop (SIGINT, SIGTERM, a crash), or its embedded data
 * directory is lost under it (`backend.lost`): then it must stop too, and says why.
 */
export async function untilStopped(
  io: CliIo,
  lost: Promise<string> | undefined,
  log: Logger,
  what: string,
): Promise<'told' | 'lost'> {
  let release: (() => void) | undefined;
  const told = new Promise<'told'>((resolve) => {
    release = io.onInterrupt?.(() => resolve('told'));
  });
  const why = await Promise.race([told, lost ?? new Promise<never>(() => {})]);
  release?.();
  if (why === 'told') return 'told';
  log.error(`${what}: ${why}. ${AFTER_DATA_DIR_LOST}`);
  return 'lost';
}
