import { randomUUID } from 'node:crypto';
import { historyLine, statusLines } from '../app/state-lines.js';
import type { Config } from '../config/env.js';
import { formatSeconds, parseDuration } from '../core/duration.js';
import {
  loadPlaybookDirectory,
  playbookOptions,
} from '../adapters/playbooks/playbook-directory.js';
import { useBackend } from './backend.js';
import { describeHolder, terminalActor } from './deploy-queued.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { loadTarget } from './target-args.js';

/** `baton status [service]`: what runs where, and what is rolling out or locked. */
export async function statusCommand(
  service: string | undefined,
  options: { playbooks: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  const catalog = await loadPlaybookDirectory(options.playbooks, playbookOptions(io.env));
  const playbooks = [...catalog.playbooks.values()].filter(
    (playbook) => service === undefined || playbook.service === service,
  );
  if (playbooks.length === 0) {
    io.stderr(
      `baton: no valid playbook${service === undefined ? 's' : ` for '${service}'`} in ${options.playbooks}.\n`,
    );
    return EXIT.badInput;
  }
  const lines = await useBackend(config, io, 'baton status', (backend) =>
    statusLines(backend, playbooks, io.now()),
  );
  for (const line of lines) io.stdout(`${line}\n`);
  return EXIT.ok;
}

/** `baton history <service>`: the rollouts of one service+environment, newest first. */
export async function historyCommand(
  service: string,
  options: { env?: string; playbooks: string; limit: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  const loaded = await loadTarget(service, options, io);
  if (loaded === undefined) return EXIT.badInput;
  const entries = await useBackend(config, io, 'baton history', (backend) =>
    backend.history.list(loaded.target, Number(options.limit) || 20),
  );
  if (entries.length === 0)
    io.stdout(`No rollouts of ${service} in ${loaded.target.environment} yet.\n`);
  for (const entry of entries) io.stdout(`${historyLine(entry)}\n`);
  return EXIT.ok;
}

/** `baton lock <service> [reason]`: nobody deploys it until it is unlocked or the lock lapses. */
export async function lockCommand(
  service: string,
  reason: string[],
  options: { env?: string; playbooks: string; for: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  const ttl = parseDuration(options.for);
  if (ttl === undefined || ttl === 0) {
    io.stderr(`baton: --for '${options.for}' is not a duration; write e.g. 4h.\n`);
    return EXIT.badInput;
  }
  const loaded = await loadTarget(service, options, io);
  if (loaded === undefined) return EXIT.badInput;
  const { target } = loaded;
  const by = terminalActor();
  return useBackend(config, io, 'baton lock', async (backend) => {
    const holder = {
      token: randomUUID(),
      owner: by,
      reason: reason.join(' ') || 'locked by hand',
      since: io.now(),
    };
    const result = await backend.locks.acquire(target, holder, ttl);
    if (!result.ok) {
      io.stderr(`baton: ${describeHolder(target, result.holder, io.now())}\n`);
      return EXIT.locked;
    }
    await backend.audit.append({
      at: io.now(),
      actor: by,
      action: 'lock.taken',
      target,
      detail: { reason: holder.reason, ttlMs: ttl },
    });
    io.stdout(
      `Locked ${service} in ${target.environment} for ${options.for}: ${holder.reason}. Unlock with: baton unlock ${service} --env ${target.environment}\n`,
    );
    return EXIT.ok;
  });
}

/** `baton unlock <service>`: releases a lock; taking away someone else's needs --force and is audited. */
export async function unlockCommand(
  service: string,
  options: { env?: string; playbooks: string; force?: boolean },
  config: Config,
  io: CliIo,
): Promise<number> {
  const loaded = await loadTarget(service, options, io);
  if (loaded === undefined) return EXIT.badInput;
  const { target } = loaded;
  const by = terminalActor();
  return useBackend(config, io, 'baton unlock', async (backend) => {
    const holder = await backend.locks.get(target);
    if (holder === undefined) {
      io.stdout(`${service} in ${target.environment} is not locked.\n`);
      return EXIT.ok;
    }
    if (options.force !== true && (holder.rollout !== undefined || holder.owner !== by)) {
      const why =
        holder.rollout !== undefined
          ? `a rollout holds it (cancel it: baton cancel ${service} --env ${target.environment})`
          : `it is ${holder.owner}'s`;
      io.stderr(
        `baton: not unlocked: ${why}. To take the lock away anyway, add --force (it is recorded in the audit log).\n`,
      );
      return EXIT.locked;
    }
    await backend.locks.forceRelease(target);
    await backend.audit.append({
      at: io.now(),
      actor: by,
      action: 'lock.released',
      target,
      detail: {
        holder: holder.owner,
        reason: holder.reason,
        forced: holder.owner !== by || holder.rollout !== undefined,
      },
    });
    io.stdout(
      `Unlocked ${service} in ${target.environment} (was held by ${holder.owner}: ${holder.reason}).\n`,
    );
    return EXIT.ok;
  });
}

/** `baton schedules [--cancel ID]`: scheduled rollbacks that have not fired yet. */
export async function schedulesCommand(
  options: { cancel?: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  return useBackend(config, io, 'baton schedules', async (backend) => {
    if (options.cancel !== undefined) {
      const removed = await backend.queue.unschedule(options.cancel);
      if (!removed) {
        io.stderr(
          `baton: no scheduled rollback '${options.cancel}' is waiting (it may have fired); see baton schedules.\n`,
        );
        return EXIT.badInput;
      }
      await backend.audit.append({
        at: io.now(),
        actor: terminalActor(),
        action: 'schedule.cancelled',
        detail: { schedule: options.cancel },
      });
      io.stdout(`Cancelled ${options.cancel}.\n`);
      return EXIT.ok;
    }
    const pending = await backend.queue.scheduled();
    if (pending.length === 0) io.stdout('No scheduled rollbacks.\n');
    for (const item of pending) {
      io.stdout(
        `${item.id}  ${item.service} ${item.environment} → ${item.version ?? 'previous good version'}  at ${new Date(item.runAt).toISOString()} (in ${formatSeconds(item.runAt - io.now())})  by ${item.requestedBy}\n`,
      );
    }
    return EXIT.ok;
  });
}

/** `baton keep <service>`: the dead-man rollback of a --rollback-after deploy will not happen. */
export async function keepCommand(
  service: string,
  options: { env?: string; playbooks: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  const loaded = await loadTarget(service, options, io);
  if (loaded === undefined) return EXIT.badInput;
  const { target } = loaded;
  return useBackend(config, io, 'baton keep', async (backend) => {
    const pending = (await backend.queue.scheduled()).filter(
      (item) =>
        item.reason === 'rollback-after' &&
        item.service === target.service &&
        item.environment === target.environment,
    );
    if (pending.length === 0) {
      io.stderr(
        `baton: no --rollback-after rollback is pending for ${service} in ${target.environment}.\n`,
      );
      return EXIT.badInput;
    }
    const by = terminalActor();
    for (const item of pending) {
      await backend.queue.unschedule(item.id);
      await backend.audit.append({
        at: io.now(),
        actor: by,
        action: 'schedule.kept',
        target,
        detail: { schedule: item.id },
      });
    }
    io.stdout(
      `Kept: ${service} in ${target.environment} stays as it is; the rollback to ${pending.map((item) => item.version ?? 'the previous version').join(', ')} is cancelled.\n`,
    );
    return EXIT.ok;
  });
}
