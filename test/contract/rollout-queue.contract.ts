import { describe, expect, it } from 'vitest';
import type { BullRolloutQueue } from '../../src/adapters/queue/bullmq-rollout-queue.js';
import type { RolloutJob, ScheduledRollback } from '../../src/adapters/queue/rollout-jobs.js';
import type { RolloutQueue } from '../../src/app/chatops/deps.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';

export interface QueueUnderTest {
  queue: RolloutQueue;
  /** Starts taking jobs and firing due rollbacks. */
  work(
    run: (job: RolloutJob) => Promise<void>,
    fire: (rollback: ScheduledRollback) => Promise<void>,
  ): Promise<void>;
  close(): Promise<void>;
}

const job = (rollout: string): RolloutJob => ({
  rollout,
  plan: planFor(fleetPlaybook({ groups: [{ hosts: 1 }] })),
  requestedBy: 'UALICE',
  lockToken: `token-${rollout}`,
});
const rollback = (id: string, runAt: number): ScheduledRollback => ({
  id,
  service: 'svc',
  environment: 'test',
  runAt,
  requestedBy: 'UALICE',
  reason: 'scheduled',
});

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** BullRolloutQueue as a subject, whatever its storage; `after` closes what the storage used. */
export function bullQueueSubject(
  queue: BullRolloutQueue,
  after: () => void = () => {},
): QueueUnderTest {
  const workers: { close(): Promise<void> }[] = [];
  return {
    queue,
    async work(run, fire) {
      const jobs = queue.work('contract', run);
      const schedules = queue.workSchedules('contract', fire);
      workers.push(jobs, schedules);
      await Promise.all([jobs.waitUntilReady(), schedules.waitUntilReady()]);
    },
    async close() {
      for (const worker of workers) await worker.close();
      await queue.close();
      after();
    },
  };
}

/** What every rollout queue must do; run against BullMQ on Redis and against the in-process one. */
export function rolloutQueueContract(name: string, make: () => Promise<QueueUnderTest>): void {
  describe(`RolloutQueue contract: ${name}`, () => {
    it('runs each job added, once, with its data', async () => {
      const subject = await make();
      const ran: RolloutJob[] = [];
      await subject.work(
        async (taken) => void ran.push(taken),
        async () => {},
      );
      await subject.queue.add(job('r1'));
      await subject.queue.add(job('r2'));
      await until(() => ran.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(ran.map((taken) => taken.rollout).sort()).toEqual(['r1', 'r2']);
      expect(ran[0]?.plan).toEqual(job('r1').plan);
      await subject.close();
    });

    it('fires a scheduled rollback at its time, lists it until then, and never fires a cancelled one', async () => {
      const subject = await make();
      const fired: { id: string; at: number }[] = [];
      await subject.work(
        async () => {},
        async (due) => void fired.push({ id: due.id, at: Date.now() }),
      );
      const now = Date.now();
      await subject.queue.schedule(rollback('due', now + 400), now);
      await subject.queue.schedule(rollback('cancelled', now + 400), now);
      expect((await subject.queue.scheduled()).map((item) => item.id).sort()).toEqual([
        'cancelled',
        'due',
      ]);
      expect(await subject.queue.unschedule('cancelled')).toBe(true);
      expect(await subject.queue.unschedule('cancelled')).toBe(false);
      await until(() => fired.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(fired.map((item) => item.id)).toEqual(['due']);
      expect(fired[0]?.at).toBeGreaterThanOrEqual(now + 400);
      expect(await subject.queue.scheduled()).toEqual([]);
      expect(await subject.queue.unschedule('due')).toBe(false);
      await subject.close();
    });

    it('fires a rollback scheduled again under the id of one that was cancelled', async () => {
      const subject = await make();
      const fired: string[] = [];
      await subject.work(
        async () => {},
        async (due) => void fired.push(due.id),
      );
      const now = Date.now();
      await subject.queue.schedule(rollback('again', now + 60_000), now);
      expect(await subject.queue.unschedule('again')).toBe(true);
      await subject.queue.schedule(rollback('again', now + 200), now);
      await until(() => fired.length === 1);
      expect(fired).toEqual(['again']);
      await subject.close();
    });
  });
}
