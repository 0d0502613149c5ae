import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BullRolloutQueue,
  RedisQueueStorage,
  redisConnection,
  type WatchedRedis,
} from '../../src/adapters/queue/bullmq-rollout-queue.js';
import { RedisKeys } from '../../src/adapters/store/redis-keys.js';
import { RedisRolloutStore } from '../../src/adapters/store/redis-rollout-store.js';
import type { StoredUpdate } from '../../src/app/store-ports.js';
import { planFor, playbookFrom } from '../support/playbooks.js';
import { freePort } from '../support/ports.js';
import { BatonProcess } from '../support/processes.js';
import { OwnRedis } from '../support/redis-server.js';

let scratch: string;
let redis: OwnRedis | undefined;
let connection: WatchedRedis | undefined;
let queue: BullRolloutQueue | undefined;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'baton-outage-'));
  await writeFile(join(scratch, 'known_hosts'), '');
});
afterAll(async () => {
  await BatonProcess.killAll();
  await queue?.close();
  connection?.disconnect();
  await redis?.stop();
  await rm(scratch, { recursive: true, force: true });
});

/** The JSON log lines of a process's stdout whose message starts with `text`. */
function linesSaying(stdout: string, text: string): unknown[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string })
    .filter((line) => line.msg?.startsWith(text));
}

/** The first update of a rollout, waited for on its stream. */
async function firstUpdate(store: RedisRolloutStore, rollout: string): Promise<StoredUpdate> {
  for (;;) {
    const [entry] = await store.read(rollout, '0', 1000);
    if (entry !== undefined) return entry.update;
  }
}

describe('a worker started while Redis is down', () => {
  it('says once that Redis is down and once that it is back, dumps no errors, then takes a job', async () => {
    const port = await freePort();
    const prefix = 'outage';
    const worker = new BatonProcess(['worker'], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      BATON_REDIS_PREFIX: prefix,
      BATON_KNOWN_HOSTS: join(scratch, 'known_hosts'),
      BATON_LOG_FORMAT: 'json',
    });
    await worker.waitFor('Redis is unreachable');

    redis = await OwnRedis.start(port);
    await worker.waitFor('Redis is back');
    await worker.waitFor('taking rollouts');
    connection = redisConnection(redis.url, () => {});
    queue = new BullRolloutQueue(new RedisQueueStorage(connection, prefix));
    const nobody = await freePort();
    const plan = planFor(
      playbookFrom({
        service: 'svc',
        steps: [{ name: 'restart', run: 'true' }],
        health: { tcp: { port: nobody } },
        environments: { test: { groups: [{ name: 'g', hosts: [`127.0.0.1:${nobody}`] }] } },
      }),
    );
    await queue.add({ rollout: 'r1', plan, requestedBy: 'test', lockToken: 't1' });
    const update = await firstUpdate(
      new RedisRolloutStore(connection, new RedisKeys(prefix)),
      'r1',
    );

    expect(update).toMatchObject({ kind: 'refused', reason: 'cannot_connect' });
    expect(linesSaying(worker.stdout, 'Redis is unreachable')).toEqual([
      expect.objectContaining({ level: 'warn', redis: 'down', reason: 'ECONNREFUSED' }),
    ]);
    expect(linesSaying(worker.stdout, 'Redis is back')).toEqual([
      expect.objectContaining({ level: 'info', redis: 'back' }),
    ]);
    expect(worker.stderr).not.toMatch(/ECONNREFUSED|Error/);
  });
});
