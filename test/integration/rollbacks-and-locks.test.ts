import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisHistoryStore, RedisAuditLog } from '../../src/adapters/store/redis-history.js';
import { RedisKeys } from '../../src/adapters/store/redis-keys.js';
import { RedisLockStore } from '../../src/adapters/store/redis-lock-store.js';
import { Fleet, type FleetHost } from '../fleet/fleet.js';
import { baton } from '../support/cli.js';
import { BatonProcess } from '../support/processes.js';
import { dropPrefix, REDIS_URL, testPrefix } from '../support/redis.js';
import { until } from '../support/until.js';

let fleet: Fleet;
let redis: Redis;
const prefix = testPrefix('rollbacks');
const target = { service: 'fleet', environment: 'test' };

const env = () => ({ ...fleet.env(), REDIS_URL, BATON_REDIS_PREFIX: prefix });

async function worker(): Promise<BatonProcess> {
  const child = new BatonProcess(['worker'], env());
  await child.waitFor('taking rollouts');
  return child;
}

async function stop(child: BatonProcess): Promise<void> {
  child.kill('SIGKILL');
  await child.exited();
}

async function versions(): Promise<string[]> {
  return Promise.all(fleet.hosts.map((host: FleetHost) => fleet.health(host)));
}

const history = () => new RedisHistoryStore(redis, new RedisKeys(prefix)).list(target, 20);

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  fleet = await Fleet.start({ hosts: 2, subnet: 106, spinupMs: 100 });
  await fleet.writePlaybook({ groups: [{ hosts: [0] }, { hosts: [1] }] });
  const first = await worker();
  for (const version of ['v2', 'v3'])
    expect(
      (await baton(['deploy', 'fleet', version, '--env', 'test', '--yes'], env())).status,
    ).toBe(0);
  await stop(first);
});
afterAll(async () => {
  await BatonProcess.killAll();
  await fleet?.stop();
  await dropPrefix(prefix);
  redis?.disconnect();
});

describe('rollbacks, schedules and locks', () => {
  it('a scheduled rollback fires after the worker that was running is replaced', async () => {
    const before = await worker();
    const scheduled = await baton(['rollback', 'fleet', '--env', 'test', '--in', '3s'], env());
    expect(scheduled.status).toBe(0);
    expect(scheduled.stdout).toMatch(
      /^Scheduled: roll fleet in test back to the previous good version at \S+ \(in 3s\)\.\nCancel it with: baton schedules --cancel rollback-fleet-test-[0-9a-f]{8}\n$/,
    );
    await stop(before);
    const after = await worker();
    const fired = await until(async () => (await history())[0]?.kind === 'rollback', 20_000);
    await stop(after);
    expect(fired).toBe(true);
    expect((await history())[0]).toMatchObject({
      kind: 'rollback',
      version: 'v2',
      previousVersion: 'v3',
      result: 'succeeded',
    });
    expect(await versions()).toEqual(['200 ok v2', '200 ok v2']);
  });

  it('a cancelled scheduled rollback never fires', async () => {
    const running = await worker();
    const scheduled = await baton(
      ['rollback', 'fleet', 'v3', '--env', 'test', '--in', '2s'],
      env(),
    );
    const id = /--cancel (\S+)/.exec(scheduled.stdout)?.[1] ?? '';
    expect((await baton(['schedules'], env())).stdout).toContain(`${id}  fleet test → v3  at`);
    expect(await baton(['schedules', '--cancel', id], env())).toMatchObject({
      status: 0,
      stdout: `Cancelled ${id}.\n`,
    });
    expect((await baton(['schedules', '--cancel', id], env())).status).toBe(2);
    const entries = (await history()).length;
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await stop(running);
    expect((await history()).length).toBe(entries);
    expect((await baton(['schedules'], env())).stdout).toBe('No scheduled rollbacks.\n');
  });

  it('rolls back now, to the previous good version from the history', async () => {
    const running = await worker();
    const run = await baton(['rollback', 'fleet', '--env', 'test', '--yes'], env());
    await stop(running);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('rollback fleet to test: v2 → v3');
    expect(await versions()).toEqual(['200 ok v3', '200 ok v3']);
    const shown = await baton(['history', 'fleet', '--env', 'test', '--limit', '2'], env());
    expect(shown.stdout.split('\n').slice(0, 2)).toEqual([
      expect.stringMatching(/Z {2}rollback v3 \(from v2\) by terminal:\S+: succeeded$/),
      expect.stringMatching(
        /Z {2}rollback v2 \(from v3\) by terminal:\S+ \(scheduled\): succeeded$/,
      ),
    ]);
  });

  it('a lock stops deploys until it is released; someone else’s lock only goes with --force, audited', async () => {
    const locked = await baton(['lock', 'fleet', '--env', 'test', 'db', 'migration'], env());
    expect(locked.stdout).toContain('Locked fleet in test for 4h: db migration.');
    const refused = await baton(['deploy', 'fleet', 'v4', '--env', 'test', '--yes'], env());
    expect(refused.status).toBe(6);
    expect(refused.stderr).toMatch(
      /is locked by terminal:\S+ since .*: db migration\. To stop it: baton unlock fleet --env test/,
    );
    expect((await baton(['status', 'fleet'], env())).stdout).toMatch(
      /^fleet test: v3; LOCKED by terminal:\S+ \d+s ago: db migration\n$/,
    );
    expect((await baton(['unlock', 'fleet', '--env', 'test'], env())).stdout).toContain(
      'Unlocked fleet in test',
    );

    const locks = new RedisLockStore(redis, new RedisKeys(prefix));
    await locks.acquire(
      target,
      { token: 't', owner: 'U0SOMEONE', reason: 'mine', since: Date.now() },
      60_000,
    );
    const polite = await baton(['unlock', 'fleet', '--env', 'test'], env());
    expect(polite.status).toBe(6);
    expect(polite.stderr).toContain("it is U0SOMEONE's. To take the lock away anyway, add --force");
    expect((await baton(['unlock', 'fleet', '--env', 'test', '--force'], env())).status).toBe(0);
    const audit = await new RedisAuditLog(redis, new RedisKeys(prefix)).recent(5);
    expect(audit[0]).toMatchObject({
      action: 'lock.released',
      target,
      detail: { holder: 'U0SOMEONE', forced: true },
    });
  });

  it('a --rollback-after deploy rolls back by itself unless someone keeps it', async () => {
    const running = await worker();
    const kept = await baton(
      ['deploy', 'fleet', 'v4', '--env', 'test', '--yes', '--rollback-after', '2s'],
      env(),
    );
    expect(kept.status).toBe(0);
    expect((await baton(['schedules'], env())).stdout).toMatch(
      /^keep-\S+ {2}fleet test → v3 {2}at /,
    );
    expect((await baton(['keep', 'fleet', '--env', 'test'], env())).stdout).toContain(
      'Kept: fleet in test stays as it is; the rollback to v3 is cancelled.',
    );
    const forgotten = await baton(
      ['deploy', 'fleet', 'v5', '--env', 'test', '--yes', '--rollback-after', '2s'],
      env(),
    );
    expect(forgotten.status).toBe(0);
    const rolledBack = await until(async () => (await history())[0]?.kind === 'rollback', 20_000);
    await stop(running);
    expect(rolledBack).toBe(true);
    expect((await history()).slice(0, 3).map((entry) => `${entry.kind} ${entry.version}`)).toEqual([
      'rollback v4',
      'deploy v5',
      'deploy v4',
    ]);
    expect(await versions()).toEqual(['200 ok v4', '200 ok v4']);
  });

  it('without REDIS_URL uses the embedded database instead, which knows nothing of Redis', async () => {
    const schedules = await baton(['schedules'], fleet.env());
    expect(schedules).toMatchObject({ status: 0, stdout: 'No scheduled rollbacks.\n' });
    const rollback = await baton(['rollback', 'fleet', '--env', 'test'], fleet.env());
    expect(rollback.status).toBe(2);
    expect(rollback.stderr).toContain(
      'There is no earlier good version of fleet in test to roll back to. Name one: baton rollback fleet <version> --env test',
    );
  });
});
