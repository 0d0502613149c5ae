import type { RolloutState } from '../../core/rollout/index.js';
import type { AuditEntry } from '../audit.js';
import type { StoredUpdate } from '../store-ports.js';
import type { RolloutJob } from '../jobs.js';
import type { WorkerDeps } from './deps.js';
import { targetOf } from './finish-rollout.js';
import type { GateAnswer, RolloutPorts, RolloutUpdate, SuspendCause } from './run-rollout.js';

/**
 * What one rollout's run needs from the worker: checkpoints and the updates for followers stored
 * with them (which must be stored, or the run suspends), the audit log (worth a warning, not a
 * stop, if lost), and gate answers (a store that cannot be read suspends the run rather than
 * aborting at the gate).
 */
export function rolloutPorts(
  job: RolloutJob,
  deps: WorkerDeps,
  suspend: (reason: string, cause: SuspendCause) => void,
): RolloutPorts {
  const target = targetOf(job);
  // Losing one progress update must not take the worker (and the rollout) down with it.
  const store = (what: string, write: Promise<unknown>) =>
    void write.catch((error: unknown) =>
      deps.warn(`rollout ${job.rollout}: could not store ${what}: ${(error as Error).message}`),
    );
  /** What followers read of an update (its state is theirs to rebuild). */
  const stored = (update: RolloutUpdate): StoredUpdate =>
    update.kind === 'event'
      ? {
          kind: 'event',
          event: update.event,
          sequence: update.state.sequence,
          worker: deps.worker,
        }
      : {
          kind: 'announcement',
          announcement: update.announcement,
          at: update.at,
          sequence: update.state.sequence,
          worker: deps.worker,
        };
  return {
    executor: deps.executor,
    controller: deps.controller,
    health: deps.health,
    clock: deps.clock,
    // The updates go with their checkpoint: on the embedded backend, in the same statement.
    checkpoint: async (
      state: RolloutState,
      previous: RolloutState | undefined,
      updates: RolloutUpdate[],
    ) => {
      // One write for both: updates that cannot be stored suspend the run as its checkpoint would.
      if (await deps.rollouts.save(state, previous, updates.map(stored))) return;
      suspend('a newer checkpoint of it is stored: another run has taken it over', 'lock_lost');
      throw new Error('a newer checkpoint is stored');
    },
    report: (update: RolloutUpdate) => {
      if (update.kind === 'event') {
        if (update.event.type === 'health.failed' || update.event.type === 'health.timed_out')
          deps.metrics?.healthCheckFailed();
        return;
      }
      const { announcement, at } = update;
      // Milestones go to the audit log too (its start is written by the job itself).
      const { type, ...said } = announcement;
      if (type === 'rollout.started') return;
      // Each milestone's detail is what its announcement says (a type the union cannot pair up).
      const entry = {
        at,
        actor: deps.worker,
        action: type,
        target,
        detail: { rollout: job.rollout, ...said },
      };
      store('an audit entry', deps.audit.append(entry as AuditEntry));
    },
    gate: async (group: string, _state: RolloutState, signal: AbortSignal): Promise<GateAnswer> => {
      for (;;) {
        let answer: { continue: boolean; by: string } | undefined;
        try {
          answer = await deps.rollouts.gateAnswer(job.rollout, group);
        } catch (error) {
          suspend(
            `the answer at gate ${group} could not be read: ${(error as Error).message}`,
            'store',
          );
          return { continue: false, by: 'baton (suspended)' };
        }
        if (answer !== undefined)
          return answer.continue
            ? { continue: true, by: answer.by }
            : { continue: false, by: answer.by };
        if (signal.aborted) return { continue: false, by: 'baton (gate abandoned)' };
        await deps.clock.sleep(deps.pollMs, signal);
      }
    },
  };
}
