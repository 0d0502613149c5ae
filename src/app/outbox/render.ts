import { escape, type SlackMessage } from '../../core/report/block-kit.js';
import {
  approvalMessage,
  scheduleMessage,
  textMessage,
  type ScheduleOutcome,
} from '../../core/report/chat-messages.js';
import { progressMessage, progressMilestone } from '../../core/report/progress-message.js';
import { isTerminal, type RolloutState } from '../../core/rollout/index.js';
import type { RequestStore } from '../approval-ports.js';
import type { Clock } from '../ports.js';
import type { ScheduleRecord, ScheduleStore } from '../schedule-ports.js';
import type { RolloutStore } from '../store-ports.js';
import type { MessageView } from './ports.js';

export interface Rendered {
  message: SlackMessage;
  /** Identifies what the message shows (not when it was drawn): equal means nothing to send. */
  revision: string;
  /** Changes in this are sent at once; other changes (host-level progress) are paced. */
  milestone: string;
  /** Nothing will change what it shows any more. */
  final: boolean;
}

export interface RenderDeps {
  requests: RequestStore;
  rollouts: RolloutStore;
  schedules: ScheduleStore;
  clock: Clock;
  /** A rollout's state as a follower in this process has replayed it, when one follows it. */
  followed?: (rollout: string) => RolloutState | undefined;
}

function scheduleOutcome(record: ScheduleRecord): ScheduleOutcome {
  switch (record.status) {
    case 'pending':
      return 'pending';
    case 'firing':
      return 'firing';
    case 'fired':
      return 'fired';
    case 'skipped':
      return { skipped: record.settled?.why ?? 'it could not run.' };
    case 'cancelled':
    case 'kept':
      return { cancelledBy: record.settled?.by ?? 'someone', at: record.settled?.at ?? 0 };
    case 'replaced':
      return { replacedAt: record.settled?.at ?? 0 };
  }
}

const fixed = (message: SlackMessage): Rendered => ({
  message,
  revision: 'fixed',
  milestone: 'fixed',
  final: true,
});

/**
 * A message as its state says it should look now; undefined while that state does not exist yet
 * (a message is added just before the state it shows).
 */
export async function render(deps: RenderDeps, view: MessageView): Promise<Rendered | undefined> {
  switch (view.kind) {
    case 'fixed':
      return fixed(view.message);
    case 'approval': {
      const approval = await deps.requests.approval(view.approval);
      if (approval === undefined) return undefined;
      const { status } = approval.request;
      const launched = approval.launch?.result;
      const revision = `${status}|${launched === undefined ? '' : launched.started}`;
      return {
        message: approvalMessage(approval),
        revision,
        milestone: revision,
        final: status !== 'pending' && (status !== 'approved' || launched !== undefined),
      };
    }
    case 'schedule': {
      const record = await deps.schedules.get(view.schedule);
      if (record === undefined) return undefined;
      return {
        message: scheduleMessage(record, scheduleOutcome(record)),
        revision: record.status,
        milestone: record.status,
        final: !['pending', 'firing'].includes(record.status),
      };
    }
    case 'rollout': {
      if (view.end?.kind === 'refused')
        return fixed(
          textMessage(
            `The rollout did not start: ${view.end.summary === undefined ? '' : `${escape(view.end.summary)}: `}${view.end.detail.map(escape).join('; ')}${view.end.reason === 'locked' ? '' : '. Nothing was changed on any host.'}`,
          ),
        );
      const state = deps.followed?.(view.rollout) ?? (await deps.rollouts.load(view.rollout));
      if (state === undefined)
        return {
          message: textMessage(
            'A rollout is queued; it starts when a worker takes it (`baton worker`).',
          ),
          revision: 'queued',
          milestone: 'queued',
          final: false,
        };
      const ended = view.end !== undefined && isTerminal(state.status);
      return {
        message: progressMessage(state, deps.clock.now(), view.requestedBy),
        revision: `${state.sequence}|${ended}`,
        milestone: progressMilestone(state),
        final: ended,
      };
    }
  }
}
