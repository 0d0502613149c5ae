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
import { deployQueued, lastGoodVersion } from './deploy-queued.js';
import type { Target } from '../app/store-ports.js';
import { sshExecutor, withRedis } from '../main.js';
import {
  answerGate,
  confirm,
  OUTCOME_EXIT,
  reporterFor,
  type DeployOptions,
} from './deploy-terminal.js';

/** `baton deploy`: a real rolling deploy from this terminal, followed to the end. */
export async function deployCommand(
  service: string,
  version: string,
  options: DeployOptions,
  config: Config,
  io: CliIo,
): Promise<number> {
  const redisUrl = config.REDIS_URL;
  let rollbackAfterMs: number | undefined;
  if (options.rollbackAfter !== undefined) {
    rollbackAfterMs = parseDuration(options.rollbackAfter);
    if (
      rollbackAfterMs === undefined ||
      rollbackAfterMs === 0 ||
      rollbackAfterMs > MAX_SCHEDULE_MS
    ) {
      io.stderr(
        `baton: --rollback-after '${options.rollbackAfter}' is not a duration up to 30 days; write e.g. 30m.\n`,
      );
      return EXIT.badInput;
    }
    if (redisUrl === undefined) {
      io.stderr(
        'baton: --rollback-after schedules a rollback, which lives in Redis: set REDIS_URL.\n',
      );
      return EXIT.badInput;
    }
  }
  const previousFor =
    redisUrl === undefined
      ? undefined
      : (target: Target) =>
          withRedis(redisSettings({ ...config, REDIS_URL: redisUrl }, io), (backend) =>
            lastGoodVersion(backend, target),
          );
  const loaded = await loadPlan(service, version, options, io, previousFor);
  if (loaded === undefined) return EXIT.badInput;
  const { playbook, plan } = loaded;
  // SSH runs here unless the workers run it.
  if ((redisUrl === undefined || options.worker === true) && !needKnownHosts(config, io)) {
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

  if (redisUrl !== undefined)
    return deployQueued(plan, options, { ...config, REDIS_URL: redisUrl }, io, rollbackAfterMs);
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
