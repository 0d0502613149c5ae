import { existsSync } from 'node:fs';
import { commandSocketPath } from '../adapters/embedded/command-socket-protocol.js';
import type { UseCaseDeps } from '../app/use-cases/deps.js';
import { embeddedDataDir } from '../config/data-dir.js';
import { requestRollout, type RolloutAsk } from '../app/use-cases/request-rollout.js';
import { MAX_SCHEDULE_MS } from '../core/command/index.js';
import { parseDuration } from '../core/duration.js';
import type { Config } from '../config/env.js';
import type * as Wiring from '../main.js';
import type { Backend } from '../main.js';
import type { SshExecutor } from '../adapters/ssh/ssh-executor.js';
import { playbookOptions } from '../adapters/playbooks/playbook-directory.js';
import { warmConnections } from './warm-connections.js';
import { playbookSource } from '../main/use-case-deps.js';
import { confirm, type DeployOptions } from './deploy-terminal.js';
import { AFTER_DATA_DIR_LOST } from './data-dir-lost.js';
import { EXIT } from './exit-codes.js';
import { followRollout } from './follow-rollout.js';
import type { CliIo } from './io.js';
import { operator, plain, refused, withUseCases } from './operator.js';
import { filterOption } from './load-playbook.js';
import { needKnownHosts } from './target-args.js';

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
 * queue. On Redis the workers run it (or this process with --worker); on the embedded backend
 * the `baton start` or `baton worker` holding the database runs it, or, when none runs, this
 * process.
 */
export async function deployCommand(
  service: string,
  version: string,
  options: DeployOptions,
  config: Config,
  io: CliIo,
): Promise<number> {
  const rollbackAfterMs = rollbackAfter(options, io);
  if (rollbackAfterMs === null) return EXIT.badInput;
  return rolloutCommand(
    {
      kind: 'deploy',
      service,
      version,
      ...(rollbackAfterMs === undefined ? {} : { rollbackAfterMs }),
    },
    options,
    config,
    io,
  );
}

/** A deploy, rollback or restart from the terminal: asked for like any, then followed here. */
export async function rolloutCommand(
  ask: RolloutAsk,
  options: DeployOptions,
  config: Config,
  io: CliIo,
): Promise<number> {
  const filter = filterOption(options, io);
  if (filter === null) return EXIT.badInput;
  const runHere = config.REDIS_URL === undefined || options.worker === true;
  // SSH runs here unless the workers run it: checked before anything is opened.
  if (runHere && !needKnownHosts(config, io)) return EXIT.badInput;
  const asked: RolloutAsk = {
    ...ask,
    ...(options.env === undefined ? {} : { environment: options.env }),
    ...(options.previous === undefined ? {} : { previousVersion: options.previous }),
    ...filter,
  };
  const playbooks = playbookSource(options.playbooks, playbookOptions(config));
  // When another process runs the rollout (a standing worker, or the process holding the
  // embedded database), the wiring that runs one here is not even loaded.
  const served = runHere && maybeServed(config);
  const wiring = runHere && !served ? await import('../main.js') : undefined;
  const executor = wiring?.sshExecutor(config, io.env);
  const warmingDone = new AbortController();
  const warming =
    executor === undefined
      ? undefined
      : warmConnections(
          executor,
          { ...asked, confirmed: options.yes === true },
          playbooks,
          io.now(),
          warmingDone.signal,
        );
  let late: SshExecutor | undefined;
  try {
    return await withUseCases(
      config,
      io,
      `baton ${ask.kind}`,
      playbooks,
      async (deps, backend) => {
        if (!runsHere(runHere, backend, options, io))
          return requestAndFollow(deps, backend, asked, options, config, io, undefined);
        // A socket file nobody answers on (its holder died): the database was opened here after all.
        const here = wiring ?? (await import('../main.js'));
        const ssh = executor ?? (late = here.sshExecutor(config, io.env));
        return requestAndFollow(deps, backend, asked, options, config, io, { wiring: here, ssh });
      },
      // With --worker on Redis, the worker runs here: on a connection of this process's own.
      config.REDIS_URL !== undefined && options.worker === true,
    );
  } finally {
    // Also when no worker started here (a refusal, a backend served by another process): the
    // logins opened ahead are closed with it, and none is opened after.
    warmingDone.abort();
    await executor?.close();
    await late?.close();
    await warming;
  }
}

/** Whether a process may serve the embedded data directory: its socket is there. */
function maybeServed(config: Config): boolean {
  if (config.REDIS_URL !== undefined) return false;
  const socket = commandSocketPath(embeddedDataDir(config));
  return socket === undefined || existsSync(socket);
}

/** Whether this process runs the rollout: not when the process holding the database does. */
function runsHere(runHere: boolean, backend: Backend, options: DeployOptions, io: CliIo): boolean {
  if (!runHere || backend.servedBy === undefined) return runHere;
  if (options.worker === true)
    io.stderr(
      `baton: ${backend.servedBy} holds the embedded database and runs this rollout; --worker starts no second worker on it.\n`,
    );
  return false;
}

async function requestAndFollow(
  deps: UseCaseDeps,
  backend: Backend,
  ask: RolloutAsk,
  options: DeployOptions,
  config: Config,
  io: CliIo,
  /** The wiring and SSH for the worker this process starts, when it runs the rollout itself. */
  runHere: { wiring: typeof Wiring; ssh: SshExecutor } | undefined,
): Promise<number> {
  let outcome = await requestRollout(deps, operator(), { ...ask, confirmed: options.yes === true });
  if (!outcome.ok && outcome.code === 'confirmation_needed') {
    if (io.interactive !== true) {
      io.stderr(
        `baton: ${plain(outcome.message).replace(/\.$/, '')}; confirm at a terminal, or pass --yes.\n`,
      );
      return EXIT.badInput;
    }
    if (
      !(await confirm(
        io,
        `${plain(outcome.message)} ${ask.kind} ${ask.service} ${ask.version ?? ''} there now?`,
      ))
    ) {
      io.stderr(`baton: not ${ask.kind === 'deploy' ? 'deployed' : 'started'}.\n`);
      return EXIT.badInput;
    }
    outcome = await requestRollout(deps, operator(), { ...ask, confirmed: true });
  }
  if (!outcome.ok) return refused(io, outcome);
  if (outcome.code !== 'started') {
    io.stdout(`${plain(outcome.message)}\n`);
    return EXIT.ok;
  }
  const local =
    runHere === undefined
      ? undefined
      : runHere.wiring.startWorker(
          backend,
          config,
          io.env,
          io.worker ?? 'baton',
          (message) => io.stderr(`baton: ${message}\n`),
          { executor: runHere.ssh },
        );
  // Run here on the embedded backend, the rollout's state is in a directory that can be removed
  // under it: then it stops, as a worker would, rather than go on where nobody can see it.
  const leave = new AbortController();
  let stopping: Promise<void> | undefined;
  const stopLocal = () => (stopping ??= local?.stop() ?? Promise.resolve());
  void (local === undefined ? undefined : backend.lost)?.then((why) => {
    // Followed to its end already: nothing left to stop.
    if (leave.signal.aborted) return;
    io.stderr(`baton: ${why}. ${AFTER_DATA_DIR_LOST}\n`);
    leave.abort();
    // Awaited (and its failure told) where the command ends.
    stopLocal().catch(() => undefined);
  });
  try {
    return await followRollout(deps, backend, outcome.rollout, options, io, leave.signal);
  } finally {
    leave.abort();
    await stopLocal();
  }
}
