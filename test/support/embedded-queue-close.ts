// A process that works the queue on the embedded database, then stops its workers the way a
// baton worker stops (RunningWorker.stop) and closes the database, leaving the process to exit
// by itself. Its idle workers wait for word of a job for as long as the first argument says (in
// seconds), so anything the closing leaves waiting on that keeps this process alive that long.
import { openEmbeddedDatabase } from '../../src/adapters/embedded/embedded-database.js';
import { EmbeddedQueueStorage } from '../../src/adapters/embedded/embedded-queue-storage.js';
import { BullRolloutQueue } from '../../src/adapters/queue/bullmq-rollout-queue.js';
import type { RolloutJob } from '../../src/app/jobs.js';
import { fleetPlaybook, planFor } from './playbooks.js';
import { until } from './until.js';

const [idleWait, dir] = process.argv.slice(2);
if (idleWait === undefined || dir === undefined)
  throw new Error('usage: embedded-queue-close <idle wait in seconds> <data dir>');

const job = (rollout: string): RolloutJob => ({
  rollout,
  plan: planFor(fleetPlaybook({ groups: [{ hosts: 1 }] })),
  requestedBy: 'UALICE',
  lockToken: `token-${rollout}`,
});

const database = await openEmbeddedDatabase(dir, 'queue close test');
const queue = new BullRolloutQueue(new EmbeddedQueueStorage(database.pool, Number(idleWait)));
const taken: string[] = [];
const scheduler = queue.workSchedules('closing', async () => {});
const consumer = queue.work('closing', async (rollout) => {
  taken.push(rollout.rollout);
  // 'held' is still running when the worker stops, as a rollout suspended by a stop is.
  if (rollout.rollout === 'held') await new Promise<never>(() => {});
  return 'done';
});
await Promise.all([scheduler.waitUntilReady(), consumer.waitUntilReady()]);

await queue.add(job('done'));
await until(async () => (await queue.state('done')) === 'completed');
await queue.add(job('held'));
await until(() => taken.includes('held'));

await scheduler.close();
await consumer.pause();
await consumer.close();
await queue.close();
await database.close();
process.stdout.write(`closed after taking ${taken.join(', ')}\n`);
