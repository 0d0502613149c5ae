import { loadPlaybookDirectory } from '../adapters/playbooks/playbook-directory.js';
import type { PlaybookOptions } from '../adapters/playbooks/playbook-directory.js';
import type { RemoteExecutor } from '../app/ports.js';
import type { RolloutAsk } from '../app/use-cases/request-rollout.js';
import { preflight } from '../app/worker/preflight.js';
import { planRollout } from '../core/rollout/index.js';

/**
 * For a deploy this process runs itself: opens the logins its pre-flight will need while the
 * backend opens and the request is checked (the embedded database takes most of a second), so
 * that the pre-flight finds them open, or joins their handshakes, instead of starting them then.
 *
 * Nothing is run on a host, and nothing is said: a login that fails here is tried again by the
 * pre-flight, which reports it. Hosts listed by a `hosts_from` command are left to the rollout
 * (their command is not run twice), and so are rollbacks and restarts, whose version the history
 * decides. A deploy refused later (a lock, a policy) has opened logins it did not use; they are
 * closed with the executor.
 */
export async function warmConnections(
  executor: RemoteExecutor,
  ask: RolloutAsk,
  playbooks: string,
  options: PlaybookOptions,
  now: number,
): Promise<void> {
  if (ask.kind !== 'deploy' || ask.version === undefined) return;
  try {
    const playbook = (await loadPlaybookDirectory(playbooks, options)).playbooks.get(ask.service);
    if (playbook === undefined) return;
    const planned = planRollout(
      playbook,
      {
        kind: ask.kind,
        service: ask.service,
        version: ask.version,
        previousVersion: ask.previousVersion ?? null,
        ...(ask.environment === undefined ? {} : { environment: ask.environment }),
        ...(ask.only === undefined ? {} : { only: ask.only }),
      },
      now,
    );
    if (planned.ok) await preflight(planned.plan, executor);
  } catch {
    // Only ahead of time: the rollout's own pre-flight connects, and says what went wrong.
  }
}
