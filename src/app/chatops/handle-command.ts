import {
  helpText,
  parseCommand,
  type Command,
  type TargetFilter,
} from '../../core/command/index.js';
import { escape } from '../../core/report/block-kit.js';
import {
  preformattedMessage,
  schedulesMessage,
  textMessage,
} from '../../core/report/chat-messages.js';
import { cancelRollout } from '../use-cases/rollout-controls.js';
import type { Principal } from '../use-cases/deps.js';
import { lockTarget, unlockTarget } from '../use-cases/locks.js';
import { history, schedules, status } from '../use-cases/queries.js';
import { requestRollout } from '../use-cases/request-rollout.js';
import { scheduleRollback } from '../use-cases/schedules.js';
import type { ChatFrontDeps, Interaction } from './deps.js';
import { once, refusalMessage, reply } from './reply.js';

/** A lock taken in chat lapses after this long unless released. */
const CHAT_LOCK_MS = 4 * 3600_000;

/**
 * `/deploy …`, after Slack has been answered: parse, call the use case, show its outcome (only
 * the person who typed sees errors; the channel sees what changed).
 */
export async function handleCommand(
  deps: ChatFrontDeps,
  text: string,
  from: Interaction,
): Promise<void> {
  await once(deps, 'command', from, `/deploy ${text}`, () => answer(deps, text, from));
}

async function answer(deps: ChatFrontDeps, text: string, from: Interaction): Promise<void> {
  const parsed = parseCommand(text, { now: deps.clock.now(), timeZone: deps.timeZone });
  if (!parsed.ok)
    return reply(
      deps,
      from,
      textMessage(
        `That did not work: ${escape(parsed.error.message)}`,
        `Usage: ${escape(parsed.error.usage)}`,
      ),
    );
  const command = parsed.command;
  const who: Principal = { id: from.user, kind: 'person' };
  switch (command.verb) {
    case 'help':
      return reply(
        deps,
        from,
        preformattedMessage('/deploy commands', helpText(command.topic).split('\n')),
      );
    case 'deploy':
    case 'rollback':
    case 'restart':
      return rollout(deps, command, from);
    case 'status': {
      const found = await status(deps, who, {
        ...(command.service === undefined ? {} : { service: command.service }),
      });
      return reply(
        deps,
        from,
        found.ok ? preformattedMessage(found.message, found.lines) : refusalMessage(found),
      );
    }
    case 'history': {
      const found = await history(deps, who, {
        service: command.service,
        ...(command.environment === undefined ? {} : { environment: command.environment }),
        limit: 20,
      });
      if (!found.ok) return reply(deps, from, refusalMessage(found));
      return reply(
        deps,
        from,
        found.entries.length === 0
          ? textMessage(escape(found.message))
          : preformattedMessage(found.message, found.lines),
      );
    }
    case 'schedules': {
      const found = await schedules(deps, who);
      return reply(
        deps,
        from,
        found.ok ? schedulesMessage(found.schedules) : refusalMessage(found),
      );
    }
    case 'cancel': {
      const done = await cancelRollout(deps, who, {
        service: command.service,
        ...(command.environment === undefined ? {} : { environment: command.environment }),
      });
      return done.ok
        ? reply(deps, from, textMessage(done.message), 'channel')
        : reply(deps, from, refusalMessage(done));
    }
    case 'lock': {
      const done = await lockTarget(deps, who, {
        service: command.service,
        ...(command.environment === undefined ? {} : { environment: command.environment }),
        ...(command.reason === undefined ? {} : { reason: command.reason }),
        ttlMs: CHAT_LOCK_MS,
      });
      return done.ok
        ? reply(deps, from, textMessage(done.message), 'channel')
        : reply(deps, from, refusalMessage(done));
    }
    case 'unlock': {
      // The channel sees who took whose lock: a person's lock may go, a rollout's may not.
      const done = await unlockTarget(deps, who, {
        service: command.service,
        ...(command.environment === undefined ? {} : { environment: command.environment }),
        force: { othersLock: true, rolloutLock: false },
      });
      if (!done.ok) return reply(deps, from, refusalMessage(done));
      return reply(
        deps,
        from,
        textMessage(done.message),
        done.code === 'unlocked' ? 'channel' : 'me',
      );
    }
  }
}

async function rollout(
  deps: ChatFrontDeps,
  command: Extract<Command, { verb: 'deploy' | 'rollback' | 'restart' }>,
  from: Interaction,
): Promise<void> {
  const who: Principal = { id: from.user, kind: 'person' };
  const origin = { channel: from.channel, replyUrl: from.responseUrl };
  const environment = command.environment === undefined ? {} : { environment: command.environment };
  if (command.verb === 'rollback' && command.schedule !== undefined) {
    const { schedule } = command;
    const done = await scheduleRollback(
      deps,
      who,
      {
        service: command.service,
        ...environment,
        ...(command.version === undefined ? {} : { version: command.version }),
        runAt: schedule.kind === 'at' ? schedule.runAt : deps.clock.now() + schedule.delayMs,
      },
      origin,
    );
    // Scheduled: its message in the channel says so, with its Cancel button.
    return done.ok ? undefined : reply(deps, from, refusalMessage(done));
  }
  const done = await requestRollout(
    deps,
    who,
    {
      kind: command.verb,
      service: command.service,
      ...environment,
      ...(command.verb !== 'restart' && command.version !== undefined
        ? { version: command.version }
        : {}),
      ...(command.verb === 'deploy' ? { dryRun: command.dryRun } : {}),
      ...filterOf(command),
      ...(command.verb === 'deploy' && command.rollbackAfterMs !== undefined
        ? { rollbackAfterMs: command.rollbackAfterMs }
        : {}),
    },
    origin,
  );
  if (!done.ok) return reply(deps, from, refusalMessage(done));
  if (done.code === 'planned')
    return reply(deps, from, preformattedMessage(done.message, done.lines));
  return reply(deps, from, textMessage(done.message));
}

/** `--hosts` / `--groups` of a command, as the request carries them. */
function filterOf(command: TargetFilter): { only?: TargetFilter } {
  if (command.hosts === undefined && command.groups === undefined) return {};
  return {
    only: {
      ...(command.hosts === undefined ? {} : { hosts: command.hosts }),
      ...(command.groups === undefined ? {} : { groups: command.groups }),
    },
  };
}
