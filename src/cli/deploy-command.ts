import { MAX_SCHEDULE_MS } from '../core/command/index.js';
import { parseDuration } from '../core/duration.js';
import type { Config } from '../config/env.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { loadPlan } from './load-playbook.js';
import { needKnownHosts } from './target-args.js';
import { deployQueued } from './deploy-queued.js';
import { runningVersion } from '../app/history.js';
import type { Target } from '../app/store-ports.js';
import type { Backend } from '../main.js';
import { useBackend } from './backend.js';
import { confirm, type DeployOptions } from './deploy-terminal.js';

/** --rollback-after as milliseconds; null (after saying why) when it cannot be used. */
function rollbackAfter(options: DeployOptions, io: CliIo): number | undefined | null {
  if (options.rollbackAfter === undefined) return undefined;
  const ms = parseDuration(options.rollbackAfter);
  if (ms === undefined || ms === 0 || ms > MAX_SCHEDULE_MS) {
    io.stderr(
      `baton: --rollback-after '${options.rollbackAfter}' is not a duration up to 30 days; write e.g. 30m.\n`,
    );
    return null;
  }
  return ms;
}

/**
 * `baton deploy`: a real rolling deploy from this terminal, followed to the end, through the
 * queue on the `backend` given or one opened (once) for it. On Redis the workers run it (or this
 * process with --worker); on the embedded backend this process is the only one, so it runs it.
 */
export async function deployCommand(
  service: string,
  version: string,
  options: DeployOptions,
  config: Config,
  io: CliIo,
  backend?: Backend,
): Promise<number> {
  const rollbackAfterMs = rollbackAfter(options, io);
  if (rollbackAfterMs === null) return EXIT.badInput;
  const runHere = config.REDIS_URL === undefined || options.worker === true;
  // SSH runs here unless the workers run it: checked before anything is opened.
  if (runHere && !needKnownHosts(config, io)) return EXIT.badInput;
  const deploy = (on: Backend) =>
    deployOn(on, service, version, { ...options, worker: runHere }, config, io, rollbackAfterMs);
  return backend === undefined ? useBackend(config, io, 'baton deploy', deploy) : deploy(backend);
}

/** The deploy once its options are checked: plan it from the history, confirm, queue, follow. */
async function deployOn(
  backend: Backend,
  service: string,
  version: string,
  options: DeployOptions,
  config: Config,
  io: CliIo,
  rollbackAfterMs: number | undefined,
): Promise<number> {
  const loaded = await loadPlan(service, version, options, io, async (target: Target) =>
    runningVersion(await backend.history.list(target, 50)),
  );
  if (loaded === undefined) return EXIT.badInput;
  const { playbook, plan } = loaded;
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
  return deployQueued(backend, plan, options, config, io, rollbackAfterMs);
}
