import { hostname, userInfo } from 'node:os';
import { systemClock } from '../adapters/clock/system-clock.js';
import type { PlaybookSource, Principal, UseCaseDeps } from '../app/use-cases/deps.js';
import type { Refusal, RefusalCode } from '../app/use-cases/outcome.js';
import type { Config } from '../config/env.js';
import { playbookOptions } from '../adapters/playbooks/playbook-directory.js';
import type { Backend } from '../main.js';
import { playbookSource, useCaseDeps } from '../main/use-case-deps.js';
import { useBackend } from './backend.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';

/**
 * Who acts at a terminal: the account and machine, as `terminal:<user>@<host>`. An operator holds
 * baton's configuration (its store, its SSH key), so the use cases treat them as a deployer
 * everywhere; environments that require approval ask them to confirm (or `--yes`).
 */
export function terminalActor(): string {
  return `terminal:${userInfo().username}@${hostname()}`;
}

export const operator = (): Principal => ({ id: terminalActor(), kind: 'operator' });

/** A use case's chat-flavoured text as terminal text: mentions, dates and markup resolved. */
export function plain(text: string): string {
  return text
    .replace(/<@([A-Z0-9]+)>/g, '$1')
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/\*([^*\n]+)\*/g, '$1')
    .replace(/`([^`\n]+)`/g, '$1')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

const LOCKED: readonly RefusalCode[] = [
  'locked',
  'lock_held_by_rollout',
  'lock_held_by_other',
  'lock_changed',
];

/** Says why on stderr, with how to fix it, and returns the exit status for it. */
export function refused(io: CliIo, refusal: Refusal): number {
  const hint = refusal.hint === undefined ? '' : ` ${plain(refusal.hint)}`;
  io.stderr(`baton: ${plain(refusal.message)}${hint}\n`);
  return LOCKED.includes(refusal.code) ? EXIT.locked : EXIT.badInput;
}

/** Runs a command's use cases on the backend, with the playbooks of `--playbooks`. */
export function withUseCases(
  config: Config,
  io: CliIo,
  command: string,
  /** A playbook directory, or a source of them already in use by the command. */
  playbooks: string | PlaybookSource,
  work: (deps: UseCaseDeps, backend: Backend) => Promise<number>,
  /** Open the backend here even when a running process would answer (see useBackend). */
  direct = false,
): Promise<number> {
  return useBackend(
    config,
    io,
    command,
    (backend) =>
      work(
        useCaseDeps(backend, {
          playbooks:
            typeof playbooks === 'string'
              ? playbookSource(playbooks, playbookOptions(config))
              : playbooks,
          clock: { now: io.now, sleep: systemClock.sleep },
          timeZone: config.BATON_TIMEZONE,
        }),
        backend,
      ),
    { direct },
  );
}
