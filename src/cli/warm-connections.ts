import type { RemoteExecutor } from '../app/ports.js';
import type { PlaybookSource } from '../app/use-cases/deps.js';
import type { RolloutAsk } from '../app/use-cases/request-rollout.js';
import { preflight } from '../app/worker/preflight.js';
import { needsApproval } from '../core/policy/index.js';
import { chooseEnvironment, planRollout } from '../core/rollout/index.js';

/**
 * For a deploy this process runs itself: opens the logins its pre-flight will need while the
 * backend opens and the request is checked (the embedded database takes most of a second), so
 * that the pre-flight finds them open, or joins their handshakes, instead of starting them then.
 *
 * Nothing is run on a host, and nothing is said: a login that fails here is tried again by the
 * pre-flight, which reports it. Hosts listed by a `hosts_from` command are left to the rollout
 * (their command is not run twice), and so are rollbacks and restarts, whose version the history
 * decides. A deploy refused later (a lock) has opened logins it did not use: once the command
 * aborts `signal` no further one starts, and those open are closed with the executor.
 */
export async function warmConnections(
  executor: RemoteExecutor,
  ask: RolloutAsk,
  /** The command's own: the request then finds the playbooks read, not read again. */
  playbooks: PlaybookSource,
  now: number,
  /** Aborted when the command is done with the rollout (or refused): no further login starts. */
  signal: AbortSignal,
): Promise<void> {
  if (ask.kind !== 'deploy' || ask.version === undefined) return;
  try {
    const playbook = (await playbooks.load()).playbooks.get(ask.service);
    if (playbook === undefined || signal.aborted) return;
    // An environment whose deploys are approved is not logged in to before the operator has said
    // yes (--yes, or at the prompt): a login may itself ask someone (an agent's confirmation, a
    // second factor) or alert.
    const environment = chooseEnvironment(playbook, ask.environment);
    if (typeof environment === 'string') return;
    if (needsApproval(environment) && ask.confirmed !== true) return;
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
    if (planned.ok) await preflight(planned.plan, executor, signal);
  } catch {
    // Only ahead of time: the rollout's own pre-flight connects, and says what went wrong.
  }
}
