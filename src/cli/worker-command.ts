import type { Config } from '../config/env.js';
import { openBackend, startWorker } from '../main.js';
import { BatonMetrics } from '../adapters/ops/metrics.js';
import { EXIT } from './exit-codes.js';
import {
  graceMs,
  logRedisTrouble,
  processLogger,
  startOperations,
  untilStopped,
} from './operations.js';
import type { CliIo } from './io.js';
import { serveTerminalCommands } from './served-backend.js';
import { needKnownHosts } from './target-args.js';

/** `baton worker`: takes rollout jobs until stopped; on SIGTERM lets the steps in flight finish. */
export async function workerCommand(
  options: { grace: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  if (!needKnownHosts(config, io)) return EXIT.badInput;
  const grace = graceMs(options.grace, io);
  if (grace === undefined) return EXIT.badInput;
  const name = io.worker ?? 'baton';
  const log = processLogger(config, io, name);
  const backend = await openBackend(config, {
    command: 'baton worker',
    trouble: logRedisTrouble(log),
    creating: (dir) =>
      log.info(`creating the embedded database in ${dir} (first use only: a few seconds)`),
  });
  const metrics = new BatonMetrics();
  metrics.watchQueue(() => backend.queue.depth());
  const running = startWorker(backend, config, io.env, name, (message) => log.warn(message), {
    metrics,
    say: (message) => log.info(message),
  });
  await running.consumer.waitUntilReady();
  const ops = await startOperations(
    config,
    log,
    [
      backend.readiness,
      {
        name: 'worker',
        check: async () => running.consumer.isRunning() || 'not taking rollouts',
      },
    ],
    metrics,
  );
  const commands = await serveTerminalCommands(config, backend, 'baton worker', (message) =>
    log.warn(message),
  );
  const answering =
    commands === undefined ? '' : `; terminal commands on it are answered on ${commands.path}`;
  log.info(`baton worker ${name}: taking rollouts from ${backend.description}${answering}.`);
  const stopped = await untilStopped(io, backend.lost, log, `baton worker ${name}`);
  log.info(
    `baton worker ${name}: stopping; steps in flight may take up to ${options.grace} to finish, then another worker (or, without Redis, the next baton on this data) resumes the rollouts.`,
  );
  await ops?.close();
  await running.stop(grace);
  // Commands are answered while the steps in flight finish; after that, the database is closed.
  await commands?.close();
  await backend.close();
  return stopped === 'lost' ? EXIT.failed : EXIT.ok;
}
