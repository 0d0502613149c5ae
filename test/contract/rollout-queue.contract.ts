import { describe, expect, it } from 'vitest';
import type { BullRolloutQueue } from '../../src/adapters/queue/bullmq-rollout-queue.js';
import type { RolloutJob, ScheduledRollback } from '../../src/app/jobs.js';
import type {
  JobAttempt,
  QueueConsumer,
  RolloutQueue,
  RolloutWorkSource,
} from '../../src/app/queue-ports.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';
import { until } from '../support/until.js';

export interface QueueUnderTest {
  queue: RolloutQueue & RolloutWorkSource;
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

/** BullRolloutQueue as a subject, whatever its storage; `after` closes what the storage used. */
export function bullQueueSubject(
  queue: BullRolloutQueue,
  after: () => void = () => {},
): QueueUnderTest {
  return {
    queue,
    async close() {
      await queue.close();
      after();
    },
  };
}

async function working(
  subject: QueueUnderTest,
  run: (job: RolloutJob, attempt: JobAttempt) => Promise<'done' | 'retry'>,
  fire: (rollback: ScheduledRollback) => Promise<void> = async () => {},
): Promise<QueueConsumer[]> {
  const consumers = [
    subject.queue.work('contract', run),
    subject.queue.workSchedules('contract', fire),
  ];
  await Promise.all(consumers.map((consumer) => consumer.waitUntilReady()));
  return consumers;
}

async function closing(subject: QueueUnderTest, consumers: QueueConsumer[]): Promise<void> {
  for (const consumer of consumers) await consumer.close();
  await subject.close();
}

/** What every rollout queue must do; run against BullMQ on Redis and against the in-process one. */
export function rolloutQueueContract(name: string, make: () => Promise<QueueUnderTest>): void {
  describe(`RolloutQueue contract: ${name}`, () => {
    it('runs each job added once, with its data, however often it is added', async () => {
      const subject = await make();
      const ran: RolloutJob[] = [];
      const consumers = await working(subject, async (taken) => {
        ran.push(taken);
        return 'done';
      });
      await subject.queue.add(job('r1'));
      await subject.queue.add(job('r2'));
      await subject.queue.add(job('r1'));
      await until(() => ran.length === 2);
      await until(async () => (await subject.queue.state('r1')) === 'completed');
      expect(ran.map((taken) => taken.rollout).sort()).toEqual(['r1', 'r2']);
      expect(ran[0]?.plan).toEqual(job('r1').plan);
      expect(await subject.queue.state('unknown-rollout')).toBe('unknown');
      await closing(subject, consumers);
    });

    it('brings a job that asks to be retried back as its next attempt', async () => {
      const subject = await make();
      const attempts: JobAttempt[] = [];
      const consumers = await working(subject, async (_taken, attempt) => {
        attempts.push(attempt);
        return attempt.attempt === 1 ? 'retry' : 'done';
      });
      await subject.queue.add(job('r1'));
      await until(() => attempts.length === 2);
      expect(attempts.map((attempt) => attempt.attempt)).toEqual([1, 2]);
      expect(attempts[0]?.attempts).toBeGreaterThan(2);
      expect(attempts[1]?.attempts).toBe(attempts[0]?.attempts);
      await closing(subject, consumers);
    });

    it('fires a scheduled rollback at its time, and never one that was unscheduled', async () => {
      const subject = await make();
      const fired: { id: string; at: number }[] = [];
      const consumers = await working(
        subject,
        async () => 'done',
        async (due) => void fired.push({ id: due.id, at: Date.now() }),
      );
      const now = Date.now();
      await subject.queue.schedule(rollback('due', now + 400), now);
      await subject.queue.schedule(rollback('unscheduled', now + 400), now);
      await subject.queue.unschedule('unscheduled');
      await subject.queue.unschedule('never-there');
      await until(() => fired.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(fired.map((item) => item.id)).toEqual(['due']);
      expect(fired[0]?.at).toBeGreaterThanOrEqual(now + 400);
      await closing(subject, consumers);
    });
  });
}
