import { randomUUID } from 'node:crypto';
import { systemClock } from '../adapters/clock/system-clock.js';
import { CommandInventory } from '../adapters/inventory/command-inventory.js';
import {
  cachedPlaybookDirectory,
  type PlaybookCatalog,
  type PlaybookOptions,
} from '../adapters/playbooks/playbook-directory.js';
import type { UserDirectory } from '../app/chat-ports.js';
import type { InventorySource } from '../app/inventory-ports.js';
import type { Clock } from '../app/ports.js';
import type { PlaybookSource, UseCaseDeps } from '../app/use-cases/deps.js';

// The use cases' wiring that loads no backend: a terminal command answered by a running worker
// needs only this (main.ts, which loads them all, re-exports it).

export const KNOWN_HOSTS_REQUIRED =
  'set BATON_KNOWN_HOSTS to an OpenSSH known_hosts file: baton verifies every host key and has no way to skip it.';

/** The playbooks of a directory, as the use cases read them (read again only when files change). */
export function playbookSource(
  catalog: (() => Promise<PlaybookCatalog>) | string,
  options: PlaybookOptions = {},
): PlaybookSource {
  const load = typeof catalog === 'string' ? cachedPlaybookDirectory(catalog, options) : catalog;
  return {
    async load() {
      const read = await load();
      return {
        playbooks: read.playbooks,
        problems: read.problems.length,
        unusable: read.unusable,
      };
    },
  };
}

/** Nobody is in a user group where there is no chat to ask (the scheduler, the terminal). */
export const NO_GROUPS: UserDirectory = { groupsOf: async () => [] };

/** Where hosts_from commands run: this process's machine. */
export function inventorySource(): InventorySource {
  return new CommandInventory();
}

/** The use cases' dependencies on a backend, whoever calls them. */
export function useCaseDeps(
  backend: Pick<
    UseCaseDeps,
    'locks' | 'rollouts' | 'history' | 'audit' | 'requests' | 'schedules' | 'outbox' | 'queue'
  >,
  options: {
    playbooks: PlaybookSource;
    directory?: UserDirectory;
    clock?: Clock;
    timeZone: string;
  },
): UseCaseDeps {
  return {
    playbooks: options.playbooks,
    directory: options.directory ?? NO_GROUPS,
    locks: backend.locks,
    rollouts: backend.rollouts,
    history: backend.history,
    audit: backend.audit,
    requests: backend.requests,
    schedules: backend.schedules,
    outbox: backend.outbox,
    queue: backend.queue,
    clock: options.clock ?? systemClock,
    timeZone: options.timeZone,
    newId: () => randomUUID(),
    inventory: inventorySource(),
  };
}
