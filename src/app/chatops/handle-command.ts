import { helpText, parseCommand, type Command } from '../../core/command/index.js';
import { escape, type SlackMessage } from '../../core/report/block-kit.js';
import {
  preformattedMessage,
  scheduleMessage,
  schedulesMessage,
  textMessage,
  who,
} from '../../core/report/chat-messages.js';
import { rollbackVersion } from '../history.js';
import { scheduledRollbackId } from '../process-rollout-job.js';
import { historyLine, statusLines } from '../state-lines.js';
import type { ChatOpsDeps, Interaction } from './deps.js';
import { describeLock, requestRollout } from './request-rollout.js';
import { deployerTarget, findPlaybook, resolveTarget } from './targets.js';

/** How long a delivery id is remembered: longer than Slack ever retries. */
export const DELIVERY_TTL_MS = 60 * 60_000;

/** A lock taken in Slack lapses after this long unless released. */
const SLACK_LOCK_MS = 4 * 3600_000;

type Reply = { message: SlackMessage; visible: 'me' | 'channel' };

const toMe = (text: string, hint?: string): Reply => ({
  message: textMessage(text, hint),
  visible: 'me',
});

/**
 * `/deploy …`, after Slack has been answered: parse, check, act, and reply to the person (only
 * they see errors; the channel sees what changed). A redelivered command does nothing.
 */
export async function handleCommand(
  deps: ChatOpsDeps,
  text: string,
  from: Interaction,
): Promise<void> {
  if (!(await deps.store.firstDelivery(`command:${from.deliveryId}`, DELIVERY_TTL_MS))) return;
  let reply: Reply | undefined;
  try {
    reply = await answer(deps, text, from);
  } catch (error) {
    deps.warn(`/deploy ${text}: ${(error as Error).message}`);
    reply = toMe(
      `Something went wrong on baton's side: ${escape((error as Error).message)}. Look at \`/deploy status\` before trying again; baton's log has the details.`,
    );
  }
  if (reply !== undefined)
    await deps.chat.respond(from.responseUrl, reply.message, { visible: reply.visible });
}

async function answer(
  deps: ChatOpsDeps,
  text: string,
  from: Interaction,
): Promise<Reply | undefined> {
  const parsed = parseCommand(text, { now: deps.clock.now(), timeZone: deps.timeZone });
  if (!parsed.ok)
    return toMe(
      `That did not work: ${escape(parsed.error.message)}`,
      `Usage: ${escape(parsed.error.usage)}`,
    );
  const command = parsed.command;
  switch (command.verb) {
    case 'help':
      return {
        message: preformattedMessage('/deploy commands', helpText(command.topic).split('\n')),
        visible: 'me',
      };
    case 'deploy':
    case 'rollback':
    case 'restart':
      return rollout(deps, command, from);
    case 'status':
      return status(deps, command.service);
    case 'history':
      return history(deps, command.service, command.environment);
    case 'schedules':
      return { message: schedulesMessage(await deps.queue.scheduled()), visible: 'me' };
    case 'cancel':
      return cancel(deps, command.service, command.environment, from);
    case 'lock':
    case 'unlock':
      return lockOrUnlock(deps, command, from);
  }
}

async function rollout(
  deps: ChatOpsDeps,
  command: Extract<Command, { verb: 'deploy' | 'rollback' | 'restart' }>,
  from: Interaction,
): Promise<Reply | undefined> {
  if (command.verb === 'rollback' && command.schedule !== undefined)
    return scheduleRollback(deps, command, command.schedule, from);
  const outcome = await requestRollout(
    deps,
    {
      kind: command.verb,
      service: command.service,
      ...(command.verb === 'restart' || command.version === undefined
        ? {}
        : { version: command.version }),
      ...(command.environment === undefined ? {} : { environment: command.environment }),
      ...(command.verb === 'deploy' ? { dryRun: command.dryRun } : {}),
      ...(command.verb === 'deploy' && command.rollbackAfterMs !== undefined
        ? { rollbackAfterMs: command.rollbackAfterMs }
        : {}),
    },
    from,
  );
  if (!outcome.ok) return toMe(outcome.text);
  if (outcome.lines !== undefined)
    return { message: preformattedMessage(outcome.text, outcome.lines), visible: 'me' };
  return toMe(outcome.text);
}

async function scheduleRollback(
  deps: ChatOpsDeps,
  command: Extract<Command, { verb: 'rollback' }>,
  schedule: NonNullable<Extract<Command, { verb: 'rollback' }>['schedule']>,
  from: Interaction,
): Promise<Reply | undefined> {
  const resolved = await deployerTarget(deps, command.service, command.environment, from.user, {
    action: 'schedule.refused',
  });
  if (typeof resolved === 'string') return toMe(resolved);
  const { environment, target } = resolved;
  const now = deps.clock.now();
  // Without a version it goes to the previous good one, worked out when it fires; if there is
  // none even now, say so now rather than have it skipped later.
  if (
    command.version === undefined &&
    rollbackVersion(await deps.history.list(target, 50)) === null
  )
    return toMe(
      `There is no earlier good version of ${command.service} in ${environment.name} to roll back to. Name one: \`/deploy rollback ${command.service} <version> to ${environment.name} …\``,
    );
  const runAt = schedule.kind === 'at' ? schedule.runAt : now + schedule.delayMs;
  const id = scheduledRollbackId(target, runAt);
  const view = {
    id,
    ...target,
    ...(command.version === undefined ? {} : { version: command.version }),
    runAt,
    requestedBy: from.user,
    reason: 'scheduled' as const,
  };
  await deps.queue.schedule({ ...view, channel: from.channel }, now);
  const posted = await deps.chat.post(from.channel, scheduleMessage(view, 'pending'));
  await deps.store.rememberScheduleMessage(id, posted);
  await deps.audit.append({
    at: now,
    actor: from.user,
    action: 'schedule.created',
    target,
    detail: { schedule: id, runAt, version: command.version },
  });
  return undefined;
}

async function status(deps: ChatOpsDeps, service: string | undefined): Promise<Reply> {
  const { playbooks } = await deps.playbooks.load();
  const chosen = [...playbooks.values()].filter(
    (playbook) => service === undefined || playbook.service === service,
  );
  if (service !== undefined && chosen.length === 0) {
    const found = await findPlaybook(deps, service);
    return toMe(typeof found === 'string' ? found : `No playbook for ${service}.`);
  }
  const lines = await statusLines(deps, chosen, deps.clock.now());
  return { message: preformattedMessage('Status', lines), visible: 'me' };
}

async function history(
  deps: ChatOpsDeps,
  service: string,
  environmentName: string | undefined,
): Promise<Reply> {
  const resolved = await resolveTarget(deps, service, environmentName);
  if (typeof resolved === 'string') return toMe(resolved);
  const { environment, target } = resolved;
  const entries = await deps.history.list(target, 20);
  if (entries.length === 0) return toMe(`No rollouts of ${service} in ${environment.name} yet.`);
  return {
    message: preformattedMessage(
      `History of ${service} in ${environment.name}`,
      entries.map(historyLine),
    ),
    visible: 'me',
  };
}

async function cancel(
  deps: ChatOpsDeps,
  service: string,
  environmentName: string | undefined,
  from: Interaction,
): Promise<Reply> {
  const resolved = await deployerTarget(deps, service, environmentName, from.user, {
    action: 'cancel.refused',
  });
  if (typeof resolved === 'string') return toMe(resolved);
  const { environment, target } = resolved;
  const holder = await deps.locks.get(target);
  if (holder?.rollout === undefined)
    return toMe(
      `Nothing of ${service} in ${environment.name} is rolling out, so there is nothing to cancel.`,
    );
  await deps.rollouts.requestCancel(holder.rollout, from.user);
  await deps.audit.append({
    at: deps.clock.now(),
    actor: from.user,
    action: 'rollout.cancel_requested',
    target,
    detail: { rollout: holder.rollout },
  });
  return {
    message: textMessage(
      `${who(from.user)} asked to cancel the rollout of ${service} in ${environment.name}: it stops after the current step.`,
    ),
    visible: 'channel',
  };
}

async function lockOrUnlock(
  deps: ChatOpsDeps,
  command: Extract<Command, { verb: 'lock' | 'unlock' }>,
  from: Interaction,
): Promise<Reply> {
  const resolved = await deployerTarget(deps, command.service, command.environment, from.user, {
    action: `${command.verb}.refused`,
  });
  if (typeof resolved === 'string') return toMe(resolved);
  const { target } = resolved;
  const now = deps.clock.now();
  if (command.verb === 'lock') {
    const reason = command.reason ?? 'locked in Slack';
    const taken = await deps.locks.acquire(
      target,
      { token: deps.newId(), owner: from.user, reason, since: now },
      SLACK_LOCK_MS,
    );
    if (!taken.ok) return toMe(describeLock(target, taken.holder, now));
    await deps.audit.append({
      at: now,
      actor: from.user,
      action: 'lock.taken',
      target,
      detail: { reason },
    });
    return {
      message: textMessage(
        `🔒 ${who(from.user)} locked ${target.service} in ${target.environment} for 4h: ${escape(reason)}. Nobody deploys it until \`/deploy unlock ${target.service} to ${target.environment}\`.`,
      ),
      visible: 'channel',
    };
  }
  const holder = await deps.locks.get(target);
  if (holder === undefined)
    return toMe(`${target.service} in ${target.environment} is not locked.`);
  if (holder.rollout !== undefined)
    return toMe(
      `${target.service} in ${target.environment} is held by a running rollout; stop it with \`/deploy cancel ${target.service} to ${target.environment}\`.`,
    );
  // By its token: a lock someone took in the meantime stays.
  if (!(await deps.locks.release(target, holder.token)))
    return toMe(
      `The lock on ${target.service} in ${target.environment} changed meanwhile; look again with \`/deploy status\`.`,
    );
  const forced = holder.owner !== from.user;
  await deps.audit.append({
    at: now,
    actor: from.user,
    action: 'lock.released',
    target,
    detail: { holder: holder.owner, forced },
  });
  return {
    message: textMessage(
      `🔓 ${who(from.user)} unlocked ${target.service} in ${target.environment}${forced ? ` (the lock was ${who(holder.owner)}'s: ${escape(holder.reason)})` : ''}.`,
    ),
    visible: 'channel',
  };
}
