import type { SlackMessage } from '../core/report/block-kit.js';

/** The chat said to slow down: no call before `retryAfterSeconds` have passed. */
export class RateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`rate limited by Slack for ${retryAfterSeconds}s`);
    this.name = 'RateLimitedError';
  }
}

/**
 * The chat refused the call for a reason that another try will not fix by itself (a channel
 * baton is not in, a message that was deleted). `waitable`: it may be fixed by a person meanwhile
 * (inviting baton), so trying again now and then is worth it.
 */
export class ChatRefusedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly waitable = false,
  ) {
    super(message);
    this.name = 'ChatRefusedError';
  }
}

/** Where a message lives, so it can be updated in place. */
export interface MessageRef {
  channel: string;
  ts: string;
}

/**
 * The chat service (Slack), as the outbox needs it. Rate limits are not retried inside: a 429 is
 * a RateLimitedError carrying Retry-After, so the outbox paces itself; other failures are thrown.
 */
export interface Chat {
  post(channel: string, message: SlackMessage, threadTs?: string): Promise<MessageRef>;
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
