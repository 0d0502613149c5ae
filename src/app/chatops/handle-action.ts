import { textMessage } from '../../core/report/chat-messages.js';
import { decideApproval } from '../use-cases/decide-approval.js';
import type { Principal } from '../use-cases/deps.js';
import { answerGate, cancelRollout, rollBackRollout } from '../use-cases/rollout-controls.js';
import { stopSchedule } from '../use-cases/schedules.js';
import type { ChatFrontDeps, Interaction } from './deps.js';
import { once, refusalMessage, reply } from './reply.js';

export const ACTION_IDS = [
  'approval.approve',
  'approval.reject',
  'approval.withdraw',
  'rollout.cancel',
  'rollout.continue',
  'rollout.abort',
  'rollout.rollback',
  'schedule.cancel',
  'schedule.keep',
] as const;

export type ActionId = (typeof ACTION_IDS)[number];

/**
 * A button click, after Slack has been answered: the use case decides; the messages it changed
 * are redrawn from state by the outbox. Only a refusal is answered, to the person who clicked.
 */
export async function handleAction(
  deps: ChatFrontDeps,
  action: ActionId,
  value: string,
  from: Interaction,
): Promise<void> {
  await once(deps, 'action', from, `${action} ${value}`, async () => {
    const outcome = await act(deps, action, value, from);
    if (!outcome.ok) await reply(deps, from, refusalMessage(outcome));
    else if (outcome.say !== undefined) await reply(deps, from, textMessage(outcome.say));
  });
}

type Acted = { ok: true; say?: string } | Parameters<typeof refusalMessage>[0];

async function act(
  deps: ChatFrontDeps,
  action: ActionId,
  value: string,
  from: Interaction,
): Promise<Acted> {
  const who: Principal = { id: from.user, kind: 'person' };
  switch (action) {
    case 'approval.approve':
    case 'approval.reject':
    case 'approval.withdraw': {
      const decided = await decideApproval(deps, who, {
        approval: value,
        action:
          action === 'approval.approve'
            ? 'approve'
            : action === 'approval.reject'
              ? 'reject'
              : 'withdraw',
      });
      if (!decided.ok) return decided;
      // An approval that cannot start says so on its message, and to the approver.
      return decided.launch?.started === false ? { ok: true, say: decided.message } : { ok: true };
    }
    case 'rollout.cancel':
      return cancelRollout(deps, who, { rollout: value });
    case 'rollout.continue':
    case 'rollout.abort':
      return answerGate(deps, who, { rollout: value, continue: action === 'rollout.continue' });
    case 'rollout.rollback':
      return rollBackRollout(deps, who, value, {
        channel: from.channel,
        replyUrl: from.responseUrl,
      });
    case 'schedule.cancel':
    case 'schedule.keep':
      return stopSchedule(deps, who, {
        schedule: value,
        as: action === 'schedule.keep' ? 'kept' : 'cancelled',
      });
  }
}
