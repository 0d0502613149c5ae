import { slackAppSettings, type Config } from '../config/env.js';
import { openBackend, startSlackApp, startWorker, type RunningWorker } from '../main.js';
import { BatonMetrics } from '../adapters/ops/metrics.js';
import { EXIT } from './exit-codes.js';
import {
  graceMs,
  logRedisTrouble,
  processLogger,
  startOperations,
  untilStopped,
} from './operations.js';
import type { CommandSocketServer } from '../adapters/embedded/command-socket-server.js';
import type { CliIo } from './io.js';
import { serveTerminalCommands } from './served-backend.js';
import { needKnownHosts } from './target-args.js';

/**
 * `baton serve` (the Slack app) and `baton start` (the app and a worker in one process). Several
 * may run against one Redis: each command or click is handled once, whichever process gets it.
 */
export async function serveCommand(
  options: { grace: string; worker: boolean },
  config: Config,
  io: CliIo,
): Promise<number> {
  const slack = slackAppSettings(config);
  if ('problem' in slack) {
    io.stderr(`baton: ${slack.problem}.\n`);
    return EXIT.badInput;
  }
  if (!options.worker && config.REDIS_URL === undefined) {
    io.stderr(
      'baton: serve queues rollouts for workers in other processes, which share state through Redis: set REDIS_URL, or run `baton start` for the Slack app and a worker in one process on the embedded database.\n',
    );
    return EXIT.badInput;
  }
  if (options.worker && !needKnownHosts(config, io)) return EXIT.badInput;
  const grace = graceMs(options.grace, io);
  if (grace === undefined) return EXIT.badInput;
  const name = io.worker ?? 'baton';
  const log = processLogger(config, io, name);
  const warn = (message: string) => log.warn(message);
  const backend = await openBackend(config, {
    command: `baton ${options.worker ? 'start' : 'serve'}`,
    trouble: logRedisTrouble(log),
    creating: (dir) =>
      log.info(`creating the embedded database in ${dir} (first use only: a few seconds)`),
  });
  const metrics = new BatonMetrics();
  metrics.watchQueue(() => backend.queue.depth());
  let worker: RunningWorker | undefined;
  let commands: CommandSocketServer | undefined;
  try {
    const app = await startSlackApp(backend, slack, config, name, warn).catch((error: unknown) => {
      log.error((error as Error).message);
      return undefined;
    });
    if (app === undefined) return EXIT.cannotConnect;
    metrics.watchSlack(app.chat.calls);
    if (options.worker) {
      worker = startWorker(backend, config, io.env, name, warn, {
        metrics,
        say: (message) => log.info(message),
      });
      await worker.consumer.waitUntilReady();
      commands = await serveTerminalCommands(config, backend, 'baton start', warn);
    }
    const running = worker;
    const ops = await startOperations(
      config,
      log,
      [
        backend.readiness,
        { name: 'slack', check: async () => app.connected() || 'not connected to Slack' },
        ...(running === undefined
          ? []
          : [
              {
                name: 'worker',
                check: async () => running.consumer.isRunning() || 'not taking rollouts',
              },
            ]),
      ],
      metrics,
    );
    const how =
      config.SLACK_APP_TOKEN === undefined
        ? `HTTP on port ${config.PORT} (request URL path /slack/events)`
        : 'Socket Mode';
    log.info(
      `baton ${options.worker ? 'start' : 'serve'} ${name}: Slack app listening over ${how}; ${options.worker ? 'running rollouts' : 'queueing rollouts'} on ${backend.description}.`,
    );
    const stopped = await untilStopped(io, backend.lost, log, `baton ${name}`);
    log.info(`baton ${name}: stopping.`);
    await ops?.close();
    await app.stop();
    await worker?.stop(grace);
    return stopped === 'lost' ? EXIT.failed : EXIT.ok;
  } finally {
    await commands?.close();
    await backend.close();
  }
}
