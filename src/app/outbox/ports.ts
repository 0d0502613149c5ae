import type { SlackMessage } from '../../core/report/block-kit.js';
import type { MessageRef } from '../chat-ports.js';

/** Where a message goes: a channel (maybe in the thread of another message), or a private answer. */
export type Destination =
  | {
      kind: 'channel';
      channel: string;
      /** The key of the message in whose thread this one goes. */
      thread?: string;
      /** Whom to tell privately, through this response URL, when the channel cannot be posted in. */
      replyUrl?: string;
    }
  | { kind: 'reply'; responseUrl: string; visible: 'me' | 'channel' };

/** How a rollout ended, as its follower read it from the rollout's updates. */
export type RolloutEnd =
  | { kind: 'finished' }
  | {
      kind: 'refused';
      reason: 'cannot_connect' | 'locked' | 'inventory_failed';
      summary?: string;
      detail: string[];
    };

/** What a message shows: state it is rendered from whenever it is delivered, or fixed content. */
export type MessageView =
  | { kind: 'approval'; approval: string }
  | { kind: 'rollout'; rollout: string; requestedBy: string; end?: RolloutEnd }
  | { kind: 'schedule'; schedule: string }
  | { kind: 'fixed'; message: SlackMessage };

export interface OutboxMessage {
  /** Stable: the same message asked for twice (after a crash) is one message. */
  key: string;
  to: Destination;
  view: MessageView;
  createdAt: number;
}

/** What has been delivered of a message, and when to try again. */
export interface DeliveryState {
  ref?: MessageRef;
  /** The content last delivered (a digest), its milestone signature, and when. */
  sent?: { digest: string; milestone: string; at: number };
  /** No attempt before this instant: a 429's Retry-After, or backoff after a failure. */
  notBefore: number;
  /** Failed attempts in a row. */
  attempts: number;
  /** Its final content was delivered, or it was given up on: nothing more to do. */
  settled: boolean;
  /** Why the last attempt failed, or why it was given up on. */
  error?: string;
  /** The requester was told privately that the channel could not be posted in. */
  toldRequester?: boolean;
}

export type OutboxRecord = OutboxMessage & DeliveryState;

/**
 * Messages to deliver, durably. A use case adds the message in the same step as the state it
 * shows; any process's deliverer renders it from that state and sends it, later, as often as
 * needed, so no chat failure can lose a decision or leave a message showing the wrong thing.
 */
export interface OutboxStore {
  /** Adds a message unless one with its key exists; true when added. */
  add(message: OutboxMessage): Promise<boolean>;
  /** Gives an existing message a new view (a rollout that ended) and makes it due again. */
  change(key: string, view: MessageView): Promise<void>;
  get(key: string): Promise<OutboxRecord | undefined>;
  /** Messages not settled, oldest first. */
  unsettled(limit: number): Promise<OutboxRecord[]>;
  /** Takes (or renews) the duty of delivering a message for `ttlMs`; false if another process has it. */
  claim(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /**
   * Stores the result of an attempt made from `view`. If the message has been given a new view
   * since, the attempt cannot settle it: the new view is still to be delivered.
   */
  record(key: string, delivery: DeliveryState, view: MessageView): Promise<void>;
}
