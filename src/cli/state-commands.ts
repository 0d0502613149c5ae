import { formatSeconds, parseDuration } from '../core/duration.js';
import type { Config } from '../config/env.js';
import { lockTarget, unlockTarget } from '../app/use-cases/locks.js';
import { history, schedules, status } from '../app/use-cases/queries.js';
import { keepTarget, stopSchedule } from '../app/use-cases/schedules.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { operator, refused, withUseCases } from './operator.js';

type TargetOptions = { env?: string; playbooks: string };
const environment = (options: TargetOptions) =>
  options.env === undefined ? {} : { environment: options.env };

/** `baton status [service]`: what runs where, and what is rolling out or locked. */
export function statusCommand(
  service: string | undefined,
  options: { playbooks: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  return withUseCases(config, io, 'baton status', options.playbooks, async (deps) => {
    const found = await status(deps, operator(), service === undefined ? {} : { service });
    if (!found.ok) return refused(io, found);
    if (found.lines.length === 0) {
      io.stderr(`baton: no valid playbooks in ${options.playbooks}; run baton validate.\n`);
      return EXIT.badInput;
    }
    for (const line of found.lines) io.stdout(`${line}\n`);
    return EXIT.ok;
  });
}

/** `baton history <service>`: the rollouts of one service+environment, newest first. */
export function historyCommand(
  service: string,
  options: TargetOptions & { limit: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  return withUseCases(config, io, 'baton history', options.playbooks, async (deps) => {
    const found = await history(deps, operator(), {
      service,
      ...environment(options),
      limit: Number(options.limit) || 20,
    });
    if (!found.ok) return refused(io, found);
    if (found.entries.length === 0) io.stdout(`${found.message}\n`);
    for (const line of found.lines) io.stdout(`${line}\n`);
    return EXIT.ok;
  });
}

/** `baton lock <service> [reason]`: nobody deploys it until it is unlocked or the lock lapses. */
export async function lockCommand(
  service: string,
  reason: string[],
  options: TargetOptions & { for: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  const ttlMs = parseDuration(options.for);
  if (ttlMs === undefined || ttlMs === 0) {
    io.stderr(`baton: --for '${options.for}' is not a duration; write e.g. 4h.\n`);
    return EXIT.badInput;
  }
  return withUseCases(config, io, 'baton lock', options.playbooks, async (deps) => {
    const done = await lockTarget(deps, operator(), {
      service,
      ...environment(options),
      ...(reason.length === 0 ? {} : { reason: reason.join(' ') }),
      ttlMs,
    });
    if (!done.ok) return refused(io, done);
    io.stdout(
      `Locked ${service} in ${done.target.environment} for ${options.for}: ${done.reason}. Unlock with: baton unlock ${service} --env ${done.target.environment}\n`,
    );
    return EXIT.ok;
  });
}

/** `baton unlock <service>`: releases a lock; taking away someone else's needs --force and is audited. */
export function unlockCommand(
  service: string,
  options: TargetOptions & { force?: boolean },
  config: Config,
  io: CliIo,
): Promise<number> {
  const force = options.force === true;
  return withUseCases(config, io, 'baton unlock', options.playbooks, async (deps) => {
    const done = await unlockTarget(deps, operator(), {
      service,
      ...environment(options),
      force: { othersLock: force, rolloutLock: force },
    });
    if (!done.ok) return refused(io, done);
    const { target, holder } = done;
    io.stdout(
      holder === undefined
        ? `${service} in ${target.environment} is not locked.\n`
        : `Unlocked ${service} in ${target.environment} (was held by ${holder.owner}: ${holder.reason}).\n`,
    );
    return EXIT.ok;
  });
}

/** `baton schedules [--cancel ID]`: scheduled rollbacks that have not fired yet. */
export function schedulesCommand(
  options: { cancel?: string; playbooks: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  return withUseCases(config, io, 'baton schedules', options.playbooks, async (deps) => {
    if (options.cancel !== undefined) {
      const done = await stopSchedule(deps, operator(), {
        schedule: options.cancel,
        as: 'cancelled',
      });
      if (!done.ok) return refused(io, done);
      io.stdout(`Cancelled ${options.cancel}.\n`);
      return EXIT.ok;
    }
    const found = await schedules(deps, operator());
    if (!found.ok) return refused(io, found);
    if (found.schedules.length === 0) io.stdout('No scheduled rollbacks.\n');
    for (const item of found.schedules) {
      io.stdout(
        `${item.id}  ${item.service} ${item.environment} → ${item.version ?? 'previous good version'}  at ${new Date(item.runAt).toISOString()} (in ${formatSeconds(item.runAt - io.now())})  by ${item.requestedBy}${item.reason === 'rollback-after' ? '  (unless kept)' : ''}\n`,
      );
    }
    return EXIT.ok;
  });
}

/** `baton keep <service>`: the dead-man rollback of a --rollback-after deploy will not happen. */
export function keepCommand(
  service: string,
  options: TargetOptions,
  config: Config,
  io: CliIo,
): Promise<number> {
  return withUseCases(config, io, 'baton keep', options.playbooks, async (deps) => {
    const done = await keepTarget(deps, operator(), { service, ...environment(options) });
    if (!done.ok) return refused(io, done);
    const kept = done.schedule;
    io.stdout(
      `Kept: ${service} in ${kept.environment} stays as it is; the rollback to ${kept.version ?? 'the previous version'} is cancelled.\n`,
    );
    return EXIT.ok;
  });
}
