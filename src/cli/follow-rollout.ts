import { patientRedis } from '../adapters/store/redis-patience.js';
import { ReplayedState } from '../app/replayed-state.js';
import type { StoredUpdate } from '../app/store-ports.js';
import type { UseCaseDeps } from '../app/use-cases/deps.js';
import { answerGate, cancelRollout } from '../app/use-cases/rollout-controls.js';
import type { RolloutUpdate } from '../app/worker/run-rollout.js';
import type { RolloutState } from '../core/rollout/index.js';
import type { Backend } from '../main.js';
import {
  answerGate as askAtGate,
  OUTCOME_EXIT,
  reporterFor,
  type DeployOptions,
} from './deploy-terminal.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { operator, plain } from './operator.js';

/** After this long with no worker, say how to start one. */
const NO_WORKER_HINT_MS = 5_000;

function toUpdate(stored: StoredUpdate, state: RolloutState): RolloutUpdate | undefined {
  if (stored.kind === 'event')
    return { kind: 'event', event: stored.event, state, worker: stored.worker };
  if (stored.kind === 'announcement')
    return {
      kind: 'announcement',
      announcement: stored.announcement,
      at: stored.at,
      state,
      worker: stored.worker,
    };
  return undefined;
}

/**
 * The terminal's view of a queued rollout: prints its updates to the end, answers its manual
 * gates and cancels it on Ctrl-C (through the use cases, as chat would); returns the exit status.
 */
export async function followRollout(
  deps: UseCaseDeps,
  backend: Backend,
  rollout: string,
  options: DeployOptions,
  io: CliIo,
  /** Once aborted, following ends (with status 1) at its next read. */
  leave?: AbortSignal,
): Promise<number> {
  const reader = backend.blocking();
  // A Redis failover lets go of the blocked read and refuses writes for a while: wait it out.
  const patiently = patientRedis((message) => io.stderr(`baton: ${message}\n`));
  const report = reporterFor(options, io);
  const answered = new Set<string>();
  const started = io.now();
  // The state each update leaves, replayed here from the events rather than loaded for each.
  const replayed = new ReplayedState(() => backend.rollouts.load(rollout));
  let cursor = '0';
  let hinted = false;
  const release = io.onInterrupt?.(
    () =>
      void patiently(() => cancelRollout(deps, operator(), { rollout })).catch((error: unknown) =>
        io.stderr(`baton: could not ask to cancel: ${(error as Error).message}\n`),
      ),
  );
  try {
    for (;;) {
      if (leave?.aborted === true) return EXIT.failed;
      const entries = await patiently(() => reader.read(rollout, cursor, 1000));
      let state: RolloutState | undefined;
      for (const entry of entries) {
        cursor = entry.cursor;
        if (entry.update.kind === 'refused') {
          for (const line of entry.update.detail) io.stderr(`baton: ${line}\n`);
          const count = entry.update.detail.length;
          if (entry.update.summary !== undefined)
            io.stderr(`baton: ${entry.update.summary}; nothing was changed on any host.\n`);
          else if (entry.update.reason === 'inventory_failed')
            io.stderr('baton: nothing was changed on any host.\n');
          else if (entry.update.reason === 'cannot_connect')
            io.stderr(
              `baton: ${count} host${count === 1 ? '' : 's'} cannot be used; nothing was changed on any host.\n`,
            );
          return entry.update.reason === 'locked' ? EXIT.locked : EXIT.cannotConnect;
        }
        if (entry.update.kind === 'finished') return OUTCOME_EXIT[entry.update.status];
        state = await patiently(() => replayed.after(entry.update));
        if (state === undefined) continue;
        const update = toUpdate(entry.update, state);
        if (update !== undefined) report(update);
      }
      for (const group of state?.groups.filter(
        (candidate) => candidate.phase === 'awaiting_gate',
      ) ?? []) {
        if (answered.has(group.name)) continue;
        answered.add(group.name);
        const answer = await askAtGate(group.name, options, io);
        const done = await patiently(() =>
          answerGate(deps, operator(), { rollout, group: group.name, continue: answer.continue }),
        );
        if (!done.ok) io.stderr(`baton: ${plain(done.message)}\n`);
      }
      if (
        !hinted &&
        entries.length === 0 &&
        io.now() - started > NO_WORKER_HINT_MS &&
        (await patiently(() => backend.queue.state(rollout))) === 'waiting'
      ) {
        hinted = true;
        io.stderr(
          'baton: no worker has taken this rollout yet. Start one with `baton worker` (same REDIS_URL), or deploy with --worker to run one here.\n',
        );
      }
    }
  } finally {
    release?.();
  }
}
