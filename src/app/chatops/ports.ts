import type { ApprovalRequest } from '../../core/policy/index.js';
import type { SlackMessage } from '../../core/report/block-kit.js';
import type { ScheduleView } from '../../core/report/chat-messages.js';
import type { Plan } from '../../core/rollout/index.js';

/** Slack said to slow down: no call before `retryAfterSeconds` have passed. */
export class RateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`rate limited by Slack for ${retryAfterSeconds}s`);
  }
}

/** Where a message lives, so it can be updated in place. */
export interface MessageRef {
  channel: string;
  ts: string;
}

/** The chat service (Slack), as the use cases need it. */
export interface Chat {
  post(channel: string, message: SlackMessage, threadTs?: string): Promise<MessageRef>;
  /** Throws RateLimitedError on a 429, so the caller paces itself rather than the client retrying. */
  update(ref: MessageRef, message: SlackMessage): Promise<void>;
  /** Answers the person who typed a command or clicked, through the interaction's response URL. */
  respond(
    responseUrl: string,
    message: SlackMessage,
    how: { visible: 'me' | 'channel'; replaceOriginal?: boolean },
  ): Promise<void>;
}

/** Which user groups (`@sre`) a user is in, for the playbook's deployers and approvers. */
export interface UserDirectory {
  groupsOf(user: string): Promise<string[]>;
}

/** A deploy that waits for someone to approve it. */
export interface PendingRollout {
  id: string;
  plan: Plan;
  rollbackAfterMs?: number;
  channel: string;
  messageTs?: string;
  request: ApprovalRequest;
  /** The scheduled rollback that asks, whose message says it fired. */
  schedule?: ScheduleView;
}

/** A rollout whose live message some `serve` process keeps up to date. */
export interface ReportedRollout {
  rollout: string;
  channel: string;
  /** Unset until the message is posted (a scheduled rollback that a worker fired). */
  ts?: string;
  requestedBy: string;
  /** The scheduled rollback this rollout is, whose message says it fired. */
  schedule?: ScheduleView;
}

/** Something a worker has to tell a channel, which a `serve` process posts. */
export interface ChannelNotice {
  channel: string;
  text: string;
  /** The scheduled rollback it is about, whose message is updated instead of posting anew. */
  schedule?: ScheduleView;
}

export interface ChatOpsStore {
  /** True the first time a key is seen: a command or click is handled once, however often it comes. */
  firstDelivery(key: string, ttlMs: number): Promise<boolean>;

  savePending(pending: PendingRollout): Promise<void>;
  pending(id: string): Promise<PendingRollout | undefined>;
  /** Stores the decided request only if it is still pending; false if another decision won. */
  decide(id: string, decided: PendingRollout): Promise<boolean>;
  /** Every request still pending (to expire those past their time). */
  allPending(): Promise<PendingRollout[]>;

  report(entry: ReportedRollout): Promise<void>;
  reports(): Promise<ReportedRollout[]>;
  /** Takes (or renews) the duty of reporting a rollout for `ttlMs`; false if another process has it. */
  claimReport(rollout: string, owner: string, ttlMs: number): Promise<boolean>;
  reportDone(rollout: string): Promise<void>;

  addNotice(notice: ChannelNotice): Promise<void>;
  /** Takes the notices waiting, each given to one caller only. */
  takeNotices(): Promise<ChannelNotice[]>;

  /** Where the message about a scheduled rollback is, to update it when it fires or is cancelled. */
  scheduleMessage(id: string): Promise<MessageRef | undefined>;
  rememberScheduleMessage(id: string, ref: MessageRef): Promise<void>;
}
