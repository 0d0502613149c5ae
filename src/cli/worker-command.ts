import { redisSettings } from './redis-settings.js';
import type { Config } from '../config/env.js';
import { openRedisBackend, startWorker } from '../main.js';
import { BatonMetrics } from '../adapters/ops/metrics.js';
import { EXIT } from './exit-codes.js';
import { graceMs, processLogger, redisCheck, startOperations } from './operations.js';
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
  const grace = graceMs(options.grace, io);
  if (grace === undefined) return EXIT.badInput;
  const name = io.worker ?? 'baton';
  const log = processLogger(config, io, name);
  const backend = openRedisBackend({
    ...redisSettings(config, io),
    trouble: (message) => log.warn(message),
  });
  const metrics = new BatonMetrics();
  metrics.watchQueue(() => backend.queue.depth());
  const running = startWorker(
    backend,
    config,
    io.env,
    name,
    (message) => log.warn(message),
    metrics,
  );
  await running.worker.waitUntilReady();
  const ops = await startOperations(
    config,
    log,
    [
      redisCheck(backend),
      {
        name: 'worker',
        check: async () => running.worker.isRunning() || 'not taking rollouts',
      },
    ],
    metrics,
  );
  log.info(
    `baton worker ${name}: taking rollouts from ${redactUrl(config.REDIS_URL)} (prefix ${config.BATON_REDIS_PREFIX}).`,
  );
  await new Promise<void>((resolve) => {
    const release = io.onInterrupt?.(() => {
      release?.();
      resolve();
    });
  });
  log.info(
    `baton worker ${name}: stopping; steps in flight may take up to ${options.grace} to finish, then other workers resume the rollouts.`,
  );
  await ops?.close();
  await running.stop(grace);
  await backend.close();
  return EXIT.ok;
}
