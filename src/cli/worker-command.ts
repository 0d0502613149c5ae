import { redisSettings } from './redis-settings.js';
import type { Config } from '../config/env.js';
import { parseDuration } from '../core/duration.js';
import { openRedisBackend, startWorker } from '../main.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { needKnownHosts, needRedis } from './target-args.js';

/** The Redis URL as it may be shown: without a password. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** `baton worker`: takes rollout jobs until stopped; on SIGTERM lets the steps in flight finish. */
export async function workerCommand(
  options: { grace: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  if (!needRedis(config, 'the rollout queue', io)) return EXIT.badInput;
  if (!needKnownHosts(config, io)) return EXIT.badInput;
  const graceMs = parseDuration(options.grace);
  if (graceMs === undefined) {
    io.stderr(`baton: --grace '${options.grace}' is not a duration; write e.g. 30s or 2m.\n`);
    return EXIT.badInput;
  }
  const name = io.worker ?? 'baton';
  const backend = openRedisBackend(redisSettings(config, io));
  const running = startWorker(backend, config, io.env, name, (message) =>
    io.stderr(`baton: ${message}\n`),
  );
  await running.worker.waitUntilReady();
  io.stdout(
    `baton worker ${name}: taking rollouts from ${redactUrl(config.REDIS_URL)} (prefix ${config.BATON_REDIS_PREFIX}).\n`,
  );
  await new Promise<void>((resolve) => {
    const release = io.onInterrupt?.(() => {
      release?.();
      resolve();
    });
  });
  io.stdout(
    `baton worker ${name}: stopping; steps in flight may take up to ${options.grace} to finish, then other workers resume the rollouts.\n`,
  );
  await running.stop(graceMs);
  await backend.close();
  return EXIT.ok;
}
