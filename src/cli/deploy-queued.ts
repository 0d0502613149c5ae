import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { RolloutUpdate } from '../app/run-rollout.js';
import {
  QUEUED_LOCK_MS,
  type LockHolder,
  type StoredUpdate,
  type Target,
} from '../app/store-ports.js';
import { patientRedis } from '../adapters/store/redis-patience.js';
import type { Config } from '../config/env.js';
import { formatSeconds } from '../core/duration.js';
import type { Plan, RolloutState } from '../core/rollout/index.js';
import { startWorker, type Backend } from '../main.js';
import { answerGate, OUTCOME_EXIT, reporterFor, type DeployOptions } from './deploy-terminal.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';

/** After this long with no worker, say how to start one. */
const NO_WORKER_HINT_MS = 5_000;

export function terminalActor(): string {
  return `terminal:${userInfo().username}@${hostname()}`;
}

export function describeHolder(target: Target, holder: LockHolder, now: number): string {
  const since = `${new Date(holder.since).toISOString()} (${formatSeconds(Math.max(1000, now - holder.since))} ago)`;
  const how =
    holder.rollout === undefined
      ? `baton unlock ${target.service} --env ${target.environment}`
      : `baton cancel ${target.service} --env ${target.environment}`;
  return `${target.service} in ${target.environment} is locked by ${holder.owner} since ${since}: ${holder.reason}. To stop it: ${how}`;
}

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

/** Follows a queued rollout's updates to its end, answering gates; returns the exit status. */
async function follow(
  backend: Backend,
  rollout: string,
  options: DeployOptions,
  io: CliIo,
  by: string,
): Promise<number> {
  const reader = backend.blocking();
  // A Redis failover lets go of the blocked read and refuses writes for a while: wait it out.
  const patiently = patientRedis((message) => io.stderr(`baton: ${message}\n`));
  const report = reporterFor(options, io);
  const answered = new Set<string>();
  const started = io.now();
  let cursor = '0';
  let hinted = false;
  const release = io.onInterrupt?.(
    () => void patiently(() => backend.rollouts.requestCancel(rollout, `${by} (interrupt)`)),
  );
  try {
    for (;;) {
      const entries = await patiently(() => reader.read(rollout, cursor, 1000));
      let state: RolloutState | undefined;
      for (const entry of entries) {
        cursor = entry.cursor;
        if (entry.update.kind === 'refused') {
          for (const line of entry.update.detail) io.stderr(`baton: ${line}\n`);
          const count = entry.update.detail.length;
          if (entry.update.reason === 'cannot_connect')
            io.stderr(
              `baton: ${count} host${count === 1 ? '' : 's'} cannot be used; nothing was changed on any host.\n`,
            );
          return entry.update.reason === 'locked' ? EXIT.locked : EXIT.cannotConnect;
        }
        if (entry.update.kind === 'finished') return OUTCOME_EXIT[entry.update.status];
        state = await patiently(() => backend.rollouts.load(rollout));
        if (state === undefined) continue;
        const update = toUpdate(entry.update, state);
        if (update !== undefined) report(update);
      }
      for (const group of state?.groups.filter(
        (candidate) => candidate.phase === 'awaiting_gate',
      ) ?? []) {
        if (answered.has(group.name)) continue;
        answered.add(group.name);
        const answer = await answerGate(group.name, options, io);
        await patiently(() => backend.rollouts.answerGate(rollout, group.name, answer));
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

/** `baton deploy` through the queue: this terminal enqueues the rollout and follows it to its end. */
export async function deployQueued(
  backend: Backend,
  plan: Plan,
  options: DeployOptions,
  config: Config,
  io: CliIo,
  rollbackAfterMs?: number,
): Promise<number> {
  const target = { service: plan.service, environment: plan.environment };
  const rollout = randomUUID();
  const token = randomUUID();
  const by = terminalActor();
  const lock = await backend.locks.acquire(
    target,
    { token, owner: by, reason: `${plan.kind} ${plan.version}`, since: io.now(), rollout },
    QUEUED_LOCK_MS,
  );
  if (!lock.ok) {
    io.stderr(`baton: ${describeHolder(target, lock.holder, io.now())}\n`);
    await backend.audit.append({
      at: io.now(),
      actor: by,
      action: 'deploy.refused',
      target,
      detail: { version: plan.version, lockedBy: lock.holder.owner },
    });
    return EXIT.locked;
  }
  await backend.audit.append({
    at: io.now(),
    actor: by,
    action: 'deploy.requested',
    target,
    detail: { rollout, version: plan.version },
  });
  await backend.queue.add({
    rollout,
    plan,
    requestedBy: by,
    lockToken: token,
    ...(rollbackAfterMs === undefined ? {} : { rollbackAfterMs }),
  });
  const local =
    options.worker === true
      ? startWorker(backend, config, io.env, io.worker ?? 'baton', (message) =>
          io.stderr(`baton: ${message}\n`),
        )
      : undefined;
  try {
    return await follow(backend, rollout, options, io, by);
  } finally {
    await local?.stop();
  }
}
