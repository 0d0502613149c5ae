import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatonMetrics } from '../../src/adapters/ops/metrics.js';
import { createLogger } from '../../src/adapters/log/logger.js';
import { startOperations } from '../../src/cli/operations.js';
import { loadConfig, type Config } from '../../src/config/env.js';
import { Fleet } from '../fleet/fleet.js';
import { baton } from '../support/cli.js';
import { BatonProcess } from '../support/processes.js';
import { OwnRedis } from '../support/redis-server.js';

let fleet: Fleet;
let redis: OwnRedis;
let worker: BatonProcess;
let ops: string;

const env = () => ({ ...fleet.env(), REDIS_URL: redis.url, BATON_REDIS_PREFIX: 'baton' });

/** Whether anything answers HTTP at `url`: false when the connection is refused. */
async function answers(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(5000) }).then(
    () => true,
    (error: unknown) => {
      if ((error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') return false;
      throw error;
    },
  );
}

async function get(path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${ops}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text() };
}

beforeAll(async () => {
  redis = await OwnRedis.start(6392);
  fleet = await Fleet.start({ hosts: 2, subnet: 109, spinupMs: 100 });
  await fleet.writePlaybook({ groups: [{ hosts: [0] }, { hosts: [1] }] });
  worker = new BatonProcess(['worker'], { ...env(), BATON_OPS_PORT: '0' });
  await worker.waitFor('taking rollouts');
  const port = /"port":(\d+)/.exec(worker.output)?.[1];
  ops = `http://127.0.0.1:${port}`;
}, 60_000);

afterAll(async () => {
  await BatonProcess.killAll();
  await fleet?.stop();
  await redis?.stop();
});

describe('a worker’s operations endpoints and log', () => {
  it('logs JSON lines that say which process wrote them', () => {
    const lines = worker.output.trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({
      level: 'info',
      process: expect.stringMatching(/:\d+$/),
      msg: expect.stringContaining('taking rollouts from Redis at redis://127.0.0.1:6392'),
    });
  });

  it('is ready when Redis answers and the worker takes jobs', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({
      status: 'ready',
      checks: { redis: 'ok', worker: 'ok' },
    });
    expect((await get('/nowhere')).status).toBe(404);
  });

  it('listens on 127.0.0.1 only unless told otherwise', async () => {
    const port = new URL(ops).port;
    expect(await answers(`http://127.0.0.1:${port}/healthz`)).toBe(true);
    // Another address of this machine: what a neighbour on the network would reach.
    expect(await answers(`http://127.0.0.2:${port}/healthz`)).toBe(false);
  });

  it('listens on BATON_OPS_HOST', async () => {
    const loaded = loadConfig({ BATON_OPS_PORT: '0', BATON_OPS_HOST: '127.109.0.200' });
    const config = (loaded as { config: Config }).config;
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      pretty: false,
      write: (line) => lines.push(line),
      secrets: [],
    });
    const server = await startOperations(config, log, [], new BatonMetrics());
    try {
      expect(server?.host).toBe('127.109.0.200');
      expect(lines.join('')).toContain(`/healthz and /metrics on 127.109.0.200:${server?.port}`);
      expect(await answers(`http://127.109.0.200:${server?.port}/healthz`)).toBe(true);
      expect(await answers(`http://127.0.0.1:${server?.port}/healthz`)).toBe(false);
    } finally {
      await server?.close();
    }
  });

  it('counts rollouts, group durations and the queue in /metrics', async () => {
    expect((await baton(['deploy', 'fleet', 'v2', '--env', 'test', '--yes'], env())).status).toBe(
      0,
    );
    const metrics = (await get('/metrics')).body;
    expect(metrics).toContain('baton_rollouts_total{kind="deploy",result="succeeded"} 1');
    expect(metrics).toMatch(/^baton_group_duration_seconds_count 2$/m);
    expect(metrics).toMatch(
      /^baton_rollout_duration_seconds_count\{kind="deploy",result="succeeded"\} 1$/m,
    );
    expect(metrics).toContain('baton_queue_jobs{state="waiting"} 0');
    expect(metrics).toMatch(/^baton_health_check_failures_total 0$/m);
  });

  it('says it is not ready, and why, when Redis is gone', async () => {
    await redis.stop();
    const health = await get('/healthz');
    expect(health.status).toBe(503);
    const body = JSON.parse(health.body) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('not ready');
    expect(body.checks.redis).not.toBe('ok');
  });
});
