import type { RolloutJob, ScheduledRollback } from '../../adapters/queue/rollout-jobs.js';
import type { Playbook, UnusablePlaybook } from '../../core/playbook/index.js';
import type { Clock } from '../ports.js';
import type { AuditLog, HistoryStore, LockStore, RolloutStore } from '../store-ports.js';
import type { Chat, ChatOpsStore, UserDirectory } from './ports.js';

export interface RolloutQueue {
  add(job: RolloutJob): Promise<void>;
  schedule(rollback: ScheduledRollback, now: number): Promise<void>;
  scheduled(): Promise<ScheduledRollback[]>;
  unschedule(id: string): Promise<boolean>;
}

/** The playbooks as they are now: valid ones by service, and what is wrong with the others. */
export interface PlaybookSource {
  load(): Promise<{
    playbooks: Map<string, Playbook>;
    problems: number;
    /** Files that cannot be used, by the service each was meant for. */
    unusable: ReadonlyMap<string, UnusablePlaybook>;
  }>;
}

/** Everything the chat use cases act on; `main` wires Slack and Redis to it. */
export interface ChatOpsDeps {
  chat: Chat;
  directory: UserDirectory;
  store: ChatOpsStore;
  locks: LockStore;
  rollouts: RolloutStore;
  history: HistoryStore;
  audit: AuditLog;
  queue: RolloutQueue;
  playbooks: PlaybookSource;
  clock: Clock;
  timeZone: string;
  newId(): string;
  /** Says something went wrong that no user is waiting to hear about. */
  warn(message: string): void;
}

/** Who typed or clicked, where, and how to answer them. */
export interface Interaction {
  user: string;
  channel: string;
  responseUrl: string;
  /** Unique per command or click: the key that makes Slack's redeliveries harmless. */
  deliveryId: string;
  /** For a click on a message in the channel (not an ephemeral one): that message. */
  messageTs?: string;
}
