import type { InventorySource } from '../inventory-ports.js';
import type { Playbook, UnusablePlaybook } from '../../core/playbook/index.js';
import type { RequestStore } from '../approval-ports.js';
import type { AuditLog } from '../audit.js';
import type { UserDirectory } from '../chat-ports.js';
import type { OutboxStore } from '../outbox/ports.js';
import type { Clock } from '../ports.js';
import type { RolloutQueue } from '../queue-ports.js';
import type { ScheduleStore } from '../schedule-ports.js';
import type { HistoryStore, LockStore, RolloutStore } from '../store-ports.js';

/** The playbooks as they are now: valid ones by service, and what is wrong with the others. */
export interface PlaybookCatalogView {
  playbooks: Map<string, Playbook>;
  /** How many problems the invalid playbooks have. */
  problems: number;
  /** Files that cannot be used, by the service each was meant for. */
  unusable?: ReadonlyMap<string, UnusablePlaybook>;
}

export interface PlaybookSource {
  load(): Promise<PlaybookCatalogView>;
}

/** Everything the use cases act on; the one wiring module gives them Redis or the embedded database. */
export interface UseCaseDeps {
  playbooks: PlaybookSource;
  directory: UserDirectory;
  locks: LockStore;
  rollouts: RolloutStore;
  history: HistoryStore;
  audit: AuditLog;
  requests: RequestStore;
  schedules: ScheduleStore;
  outbox: OutboxStore;
  queue: RolloutQueue;
  clock: Clock;
  timeZone: string;
  newId(): string;
  /** Runs hosts_from commands when a plan is made; absent, a playbook that has one cannot be planned. */
  inventory?: InventorySource;
}

/**
 * Who asks, as the front end knows them: a chat user id, or an operator at a terminal
 * (`terminal:<user>@<host>`), who holds baton's configuration.
 */
export interface Principal {
  id: string;
  kind: 'person' | 'operator';
}

/** Where a chat request came from, so what it causes is shown there and its requester answered. */
export interface ChatOrigin {
  channel: string;
  /** The interaction's response URL: told privately if the channel cannot be posted in. */
  replyUrl?: string;
}
