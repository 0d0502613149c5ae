import { scheduleRollback } from '../app/use-cases/schedules.js';
import type { Config } from '../config/env.js';
import { MAX_SCHEDULE_MS, resolveTime } from '../core/command/index.js';
import { DURATION_EXAMPLES, formatSeconds, parseDuration } from '../core/duration.js';
import { rolloutCommand } from './deploy-command.js';
import type { DeployOptions } from './deploy-terminal.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { operator, refused, withUseCases } from './operator.js';

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
  const runAt = when(options, config, io);
  if (typeof runAt === 'string') {
    io.stderr(`baton: ${runAt}.\n`);
    return EXIT.badInput;
  }
  if (runAt !== undefined && (options.hosts !== undefined || options.groups !== undefined)) {
    io.stderr(
      'baton: --hosts and --groups apply to a rollback run now; a scheduled rollback covers the whole environment.\n',
    );
    return EXIT.badInput;
  }
  if (runAt === undefined)
    return rolloutCommand(
      { kind: 'rollback', service, ...(version === undefined ? {} : { version }) },
      options,
      config,
      io,
    );
  return withUseCases(config, io, 'baton rollback', options.playbooks, async (deps) => {
    const done = await scheduleRollback(deps, operator(), {
      service,
      ...(options.env === undefined ? {} : { environment: options.env }),
      ...(version === undefined ? {} : { version }),
      runAt,
    });
    if (!done.ok) return refused(io, done);
    const { schedule } = done;
    io.stdout(
      `Scheduled: roll ${service} in ${schedule.environment} back to ${version ?? 'the previous good version'} at ${new Date(runAt).toISOString()} (in ${formatSeconds(runAt - io.now())}).\nCancel it with: baton schedules --cancel ${schedule.id}\n`,
    );
    if (config.REDIS_URL === undefined)
      io.stdout(
        `It fires when due while baton runs on ${config.BATON_DATA_DIR} (baton start, or baton worker); if none runs then, it fires as soon as one starts.\n`,
      );
    return EXIT.ok;
  });
}
