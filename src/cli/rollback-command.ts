import { rollbackVersion, runningVersion } from '../app/history.js';
import { scheduledRollbackId } from '../app/process-rollout-job.js';
import type { Config } from '../config/env.js';
import { MAX_SCHEDULE_MS, resolveTime } from '../core/command/index.js';
import { versionProblem } from '../core/rollout/index.js';
import { DURATION_EXAMPLES, formatSeconds, parseDuration } from '../core/duration.js';
import { useBackend } from './backend.js';
import { deployCommand } from './deploy-command.js';
import { terminalActor } from './deploy-queued.js';
import type { DeployOptions } from './deploy-terminal.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { loadTarget } from './target-args.js';

export interface RollbackOptions extends DeployOptions {
  at?: string;
  in?: string;
}

function when(options: RollbackOptions, config: Config, io: CliIo): number | string | undefined {
  if (options.at !== undefined && options.in !== undefined) return 'give --at or --in, not both';
  if (options.in !== undefined) {
    const delay = parseDuration(options.in);
    if (delay === undefined || delay === 0)
      return `--in '${options.in}' is not a duration; write ${DURATION_EXAMPLES}`;
    if (delay > MAX_SCHEDULE_MS) return `--in ${options.in} is more than 30 days ahead`;
    return io.now() + delay;
  }
  if (options.at !== undefined) {
    const time = resolveTime(options.at, io.now(), config.BATON_TIMEZONE);
    if (!time.ok)
      return time.reason === 'past'
        ? `--at ${options.at} is in the past`
        : `--at '${options.at}' is not a time: use 17:00 or an ISO-8601 timestamp`;
    if (time.runAt - io.now() > MAX_SCHEDULE_MS)
      return `--at ${options.at} is more than 30 days ahead`;
    return time.runAt;
  }
  return undefined;
}

/** `baton rollback`: back to the previous good version (or a given one), now or at a set time. */
export async function rollbackCommand(
  service: string,
  version: string | undefined,
  options: RollbackOptions,
  config: Config,
  io: CliIo,
): Promise<number> {
  const loaded = await loadTarget(service, options, io);
  if (loaded === undefined) return EXIT.badInput;
  const { playbook, target } = loaded;
  const problem = version === undefined ? undefined : versionProblem(playbook, version);
  if (problem !== undefined) {
    io.stderr(`baton: ${problem}\n`);
    return EXIT.badInput;
  }
  const runAt = when(options, config, io);
  if (typeof runAt === 'string') {
    io.stderr(`baton: ${runAt}.\n`);
    return EXIT.badInput;
  }
  if (runAt !== undefined) {
    const id = scheduledRollbackId(target, runAt);
    const by = terminalActor();
    await useBackend(config, io, 'baton rollback', async (backend) => {
      await backend.queue.schedule(
        {
          id,
          ...target,
          ...(version === undefined ? {} : { version }),
          runAt,
          requestedBy: by,
          reason: 'scheduled',
        },
        io.now(),
      );
      await backend.audit.append({
        at: io.now(),
        actor: by,
        action: 'schedule.created',
        target,
        detail: { schedule: id, runAt, version },
      });
    });
    const to = version ?? 'the previous good version';
    io.stdout(
      `Scheduled: roll ${service} in ${target.environment} back to ${to} at ${new Date(runAt).toISOString()} (in ${formatSeconds(runAt - io.now())}).\nCancel it with: baton schedules --cancel ${id}\n`,
    );
    if (config.REDIS_URL === undefined)
      io.stdout(
        `It fires when due while baton runs on ${config.BATON_DATA_DIR} (baton start, or baton worker); if none runs then, it fires as soon as one starts.\n`,
      );
    return EXIT.ok;
  }
  // One connection for reading the history and for running the rollback.
  return useBackend(config, io, 'baton rollback', async (backend) => {
    const entries = await backend.history.list(target, 50);
    const goTo = version ?? rollbackVersion(entries);
    if (goTo === null) {
      io.stderr(
        `baton: no earlier good version of ${service} in ${target.environment} is recorded; name the version: baton rollback ${service} <version>\n`,
      );
      return EXIT.badInput;
    }
    const previous = options.previous ?? runningVersion(entries) ?? undefined;
    return deployCommand(
      service,
      goTo,
      { ...options, kind: 'rollback', ...(previous === undefined ? {} : { previous }) },
      config,
      io,
      backend,
    );
  });
}
