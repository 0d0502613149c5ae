import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '../../src/adapters/store/redis-keys.js';
import { RedisRolloutStore } from '../../src/adapters/store/redis-rollout-store.js';
import { followRollout } from '../../src/cli/follow-rollout.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { loadConfig } from '../../src/config/env.js';
import { openRedisBackend, playbookSource, useCaseDeps, type Backend } from '../../src/main.js';
import { freePort } from '../support/ports.js';
import { OwnRedis } from '../support/redis-server.js';
import { until } from '../support/until.js';

let redis: OwnRedis;
let admin: Redis;
let backend: Backend | undefined;

beforeAll(async () => {
  redis = await OwnRedis.start(await freePort());
  admin = new Redis(redis.url);
});
afterAll(async () => {
  await backend?.close();
  admin?.disconnect();
  await redis?.stop();
});

/** Whether some client is blocked in XREAD right now. */
async function blockedInXread(): Promise<boolean> {
  const clients = (await admin.client('LIST')) as string;
  return clients
    .split('\n')
    .some((line) => /\bflags=\w*b/.test(line) && /\bcmd=xread\b/.test(line));
}

describe('a terminal following a rollout through a Redis failover', () => {
  it('waits while Redis is a replica, says so once, and sees the updates written after', async () => {
    const prefix = 'failover';
    const config = loadConfig({ REDIS_URL: redis.url, BATON_REDIS_PREFIX: prefix });
    if (!config.ok) throw new Error(config.problems.join('\n'));
    backend = openRedisBackend({ url: redis.url, prefix, trouble: () => {} });
    let stderr = '';
    const deps = useCaseDeps(backend, { playbooks: playbookSource('playbooks'), timeZone: 'UTC' });
    const rollout = 'r-failover';
    const following = followRollout(
      deps,
      backend,
      rollout,
      { playbooks: 'playbooks' },
      {
        stdout: () => {},
        stderr: (text) => (stderr += text),
        env: {},
        now: Date.now,
      },
    );
    await until(blockedInXread);

    // As in a failover: the server becomes a replica (of a master that is not there yet).
    await admin.replicaof('127.0.0.1', String(await freePort()));
    const writer = new Redis(redis.url);
    const updates = new RedisRolloutStore(writer, new RedisKeys(prefix));
    const finished = { kind: 'finished', status: 'rolled_back', at: 0, worker: 'test' } as const;
    try {
      // The follower reads on from the replica while a worker's writes are refused.
      await until(blockedInXread);
      await expect(writer.set(`${prefix}:probe`, '1')).rejects.toThrow(/^READONLY/);
      await admin.replicaof('NO', 'ONE');
      await updates.append(rollout, finished);
    } finally {
      writer.disconnect();
    }

    expect(await following).toBe(EXIT.rolledBack);
    // A failover it rode out needs no more than a line: at most one, however long it lasted.
    expect((stderr.match(/Redis is not answering/g) ?? []).length).toBeLessThanOrEqual(1);
  });
});
