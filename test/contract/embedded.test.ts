import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { systemClock } from '../../src/adapters/clock/system-clock.js';
import {
  openEmbeddedDatabase,
  type EmbeddedDatabase,
} from '../../src/adapters/embedded/embedded-database.js';
import { EmbeddedQueueStorage } from '../../src/adapters/embedded/embedded-queue-storage.js';
import { SqlOutbox } from '../../src/adapters/embedded/sql-outbox.js';
import { SqlRequestStore } from '../../src/adapters/embedded/sql-request-store.js';
import { SqlScheduleStore } from '../../src/adapters/embedded/sql-schedule-store.js';
import {
  SqlHistory,
  SqlLockStore,
  SqlRolloutStore,
} from '../../src/adapters/embedded/sql-stores.js';
import { BullRolloutQueue } from '../../src/adapters/queue/bullmq-rollout-queue.js';
import { VirtualClock } from '../support/virtual-clock.js';
import { historyStoreContract } from './history-store.contract.js';
import { lockStoreContract } from './lock-store.contract.js';
import { outboxContract } from './outbox.contract.js';
import { requestStoreContract } from './request-store.contract.js';
import { bullQueueSubject, rolloutQueueContract } from './rollout-queue.contract.js';
import { rolloutStoreContract } from './rollout-store.contract.js';
import { scheduleStoreContract } from './schedule-store.contract.js';

// One embedded database for the file (opening one takes seconds); each subject starts empty.
let dir: string;
let database: EmbeddedDatabase;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-embedded-'));
  database = await openEmbeddedDatabase(join(dir, 'db'), 'contract tests');
}, 60_000);
afterAll(async () => {
  await database.close();
  await rm(dir, { recursive: true, force: true });
});

async function empty(): Promise<EmbeddedDatabase> {
  const { rows } = await database.pool.query(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'baton'",
  );
  const tables = rows.map((row) => `baton.${String(row.tablename)}`);
  await database.pool.query(
    `TRUNCATE ${[...tables, 'bullmq.job', 'bullmq.event'].join(', ')} CASCADE`,
  );
  return database;
}

const pass = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

lockStoreContract('embedded', async () => {
  const clock = new VirtualClock();
  return { locks: new SqlLockStore((await empty()).pool, clock), pass: (ms) => clock.sleep(ms) };
});

rolloutStoreContract(
  'embedded',
  async () => new SqlRolloutStore((await empty()).pool, systemClock),
  async (state) => {
    await database.pool.query(
      'INSERT INTO baton.checkpoints (id, sequence, state, at) VALUES ($1, $2, $3, $4)',
      [state.id, state.sequence, JSON.stringify(state), Date.now()],
    );
  },
);

historyStoreContract('embedded', async () => new SqlHistory((await empty()).pool));

requestStoreContract('embedded', async () => ({
  store: new SqlRequestStore((await empty()).pool, systemClock),
  pass,
}));

scheduleStoreContract(
  'embedded',
  async () => new SqlScheduleStore((await empty()).pool, systemClock),
);

outboxContract('embedded', async () => ({
  outbox: new SqlOutbox((await empty()).pool, systemClock),
  pass,
}));

rolloutQueueContract('BullMQ on the embedded database', async () => {
  return bullQueueSubject(new BullRolloutQueue(new EmbeddedQueueStorage((await empty()).pool)));
});
