import { MAX_SCHEDULE_MS } from '../core/command/index.js';
import { parseDuration } from '../core/duration.js';
import { redisSettings } from './redis-settings.js';
import { randomUUID } from 'node:crypto';
import { systemClock } from '../adapters/clock/system-clock.js';
import { NetworkHealthProbe } from '../adapters/health/network-health-probe.js';
import { preflight } from '../app/preflight.js';
import { RolloutRun } from '../app/run-rollout.js';
import type { Config } from '../config/env.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { loadPlan } from './load-playbook.js';
import { needKnownHosts } from './target-args.js';
import { deployQueued } from './deploy-queued.js';
import { runningVersion } from '../app/history.js';
import type { Target } from '../app/store-ports.js';
import { sshExecutor, withRedis, type RedisBackend } from '../main.js';
import {
  answerGate,
  confirm,
  OUTCOME_EXIT,
  reporterFor,
  type DeployOptions,
} from './deploy-terminal.js';

/** --rollback-after as milliseconds; null (after saying why) when it cannot be used. */
function rollbackAfter(
  options: DeployOptions,
  config: Config,
  io: CliIo,
): number | undefined | null {
  if (options.rollbackAfter === undefined) return undefined;
  const ms = parseDuration(options.rollbackAfter);
  if (ms === undefined || ms === 0 || ms > MAX_SCHEDULE_MS) {
    io.stderr(
      `baton: --rollback-after '${options.rollbackAfter}' is not a duration up to 30 days; write e.g. 30m.\n`,
    );
    return null;
  }
  if (config.REDIS_URL === undefined) {
    io.stderr(
      'baton: --rollback-after schedules a rollback, which lives in Redis: set REDIS_URL.\n',
    );
    return null;
  }
  return ms;
}

/**
 * `baton deploy`: a real rolling deploy from this terminal, followed to the end. With Redis it
 * goes through the queue, on the `backend` given or one opened (once) for it.
 */
export async function deployCommand(
  service: string,
  version: string,
  options: DeployOptions,
  config: Config,
  io: CliIo,
  backend?: RedisBackend,
): Promise<number> {
  if (config.REDIS_URL !== undefined && backend === undefined) {
    return withRedis(redisSettings(config, io), (opened) =>
      deployCommand(service, version, options, config, io, opened),
    );
  }
  const rollbackAfterMs = rollbackAfter(options, config, io);
  if (rollbackAfterMs === null) return EXIT.badInput;
  const previousFor =
    backend === undefined
      ? undefined
      : async (target: Target) => runningVersion(await backend.history.list(target, 50));
  const loaded = await loadPlan(service, version, options, io, previousFor);
  if (loaded === undefined) return EXIT.badInput;
  const { playbook, plan } = loaded;
  // SSH runs here unless the workers run it.
  if ((backend === undefined || options.worker === true) && !needKnownHosts(config, io)) {
    return EXIT.badInput;
  }
  const environment = playbook.environments.find(
    (candidate) => candidate.name === plan.environment,
  );
  if (environment?.approval.required === true && options.yes !== true) {
    if (io.interactive !== true) {
      io.stderr(
        `baton: ${plan.environment} requires approval; confirm at a terminal, or pass --yes.\n`,
      );
      return EXIT.badInput;
    }
    if (
      !(await confirm(
        io,
        `${plan.environment} requires approval. Deploy ${service} ${version} there now?`,
      ))
    ) {
      io.stderr('baton: not deployed.\n');
      return EXIT.badInput;
    }
  }

  if (backend !== undefined)
    return deployQueued(backend, plan, options, config, io, rollbackAfterMs);
  const executor = sshExecutor(config, io.env);
  try {
    const unreachable = await preflight(plan, executor);
    if (unreachable.length > 0) {
      for (const failure of unreachable) io.stderr(`baton: ${failure.message}\n`);
      io.stderr(
        `baton: ${unreachable.length} host${unreachable.length === 1 ? '' : 's'} cannot be used; nothing was changed on any host.\n`,
      );
      return EXIT.cannotConnect;
    }
    const run = RolloutRun.start(plan, randomUUID(), {
      executor,
      health: new NetworkHealthProbe(executor),
      clock: systemClock,
      checkpoint: async () => {},
      report: reporterFor(options, io),
      gate: (group) => answerGate(group, options, io),
    });
    let interrupts = 0;
    const release = io.onInterrupt?.(() => {
      interrupts += 1;
      if (interrupts === 1) run.cancel('terminal (interrupt)');
      else
        io.stderr(
          'baton: already cancelling; waiting for the steps in flight so no host is left half-done.\n',
        );
    });
    const outcome = await run.run().finally(() => release?.());
    if (outcome.state.status !== 'succeeded' && outcome.connectionFailures.length > 0)
      return EXIT.cannotConnect;
    return OUTCOME_EXIT[outcome.state.status];
  } finally {
    await executor.close();
  }
}
