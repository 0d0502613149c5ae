import { describe, expect, it } from 'vitest';
import type { HealthProbe, HostTarget, ProbeResult } from '../../src/app/ports.js';
import { waitUntilHealthy } from '../../src/app/worker/wait-until-healthy.js';
import type { Probe } from '../../src/core/rollout/index.js';
import { VirtualClock } from '../support/virtual-clock.js';

const probe: Probe = { kind: 'tcp', address: 'h', port: 80, connectTimeoutMs: 100 };
const target: HostTarget = { name: 'h', address: 'h', port: 22, user: 'deploy' };

/** A host that is down until `upAt`, then up (or flaps per `flap`). */
function host(clock: VirtualClock, upAt: number, flap?: (time: number) => boolean): HealthProbe {
  return {
    check: async (): Promise<ProbeResult> => {
      const up = clock.now() >= upAt && (flap?.(clock.now()) ?? true);
      return { healthy: up, detail: up ? 'ok' : 'connection refused' };
    },
  };
}

describe('waitUntilHealthy', () => {
  it('sees a quick host healthy within one fast poll of it coming up', async () => {
    const clock = new VirtualClock();
    const outcome = await waitUntilHealthy(
      probe,
      target,
      { intervalMs: 1000, timeoutMs: 60_000, successes: 1 },
      host(clock, 130),
      clock,
      new AbortController().signal,
    );
    expect(outcome.outcome).toBe('passed');
    expect(clock.now()).toBeGreaterThanOrEqual(130);
    expect(clock.now()).toBeLessThan(130 + 25 + 1);
  });

  it('backs off to the interval for a slow host, never beyond it', async () => {
    const clock = new VirtualClock();
    await waitUntilHealthy(
      probe,
      target,
      { intervalMs: 500, timeoutMs: 60_000, successes: 1 },
      host(clock, 10_000),
      clock,
      new AbortController().signal,
    );
    expect(Math.max(...clock.sleeps)).toBe(500);
    expect(clock.sleeps.slice(0, 10)).toEqual(Array(10).fill(25));
    expect(clock.sleeps.at(-1)).toBe(500);
  });

  it('needs the configured passes in a row, spaced by the interval', async () => {
    const clock = new VirtualClock();
    // Up from 100 ms, but down again between 200 and 700 ms: the first streak breaks.
    const flappy = host(clock, 100, (time) => time < 200 || time >= 700);
    const outcome = await waitUntilHealthy(
      probe,
      target,
      { intervalMs: 300, timeoutMs: 60_000, successes: 3 },
      flappy,
      clock,
      new AbortController().signal,
    );
    expect(outcome).toMatchObject({ outcome: 'passed' });
    expect(clock.now()).toBeGreaterThanOrEqual(700 + 2 * 300);
  });

  it('times out with the last failure', async () => {
    const clock = new VirtualClock();
    const outcome = await waitUntilHealthy(
      probe,
      target,
      { intervalMs: 1000, timeoutMs: 5000, successes: 1 },
      host(clock, Infinity),
      clock,
      new AbortController().signal,
    );
    expect(outcome).toMatchObject({ outcome: 'timed_out', detail: 'connection refused' });
    expect(clock.now()).toBeLessThanOrEqual(5000);
  });

  it('says how far a streak got when time runs out mid-streak', async () => {
    const clock = new VirtualClock();
    const outcome = await waitUntilHealthy(
      probe,
      target,
      { intervalMs: 1000, timeoutMs: 2500, successes: 3 },
      host(clock, 1000),
      clock,
      new AbortController().signal,
    );
    expect(outcome).toMatchObject({
      outcome: 'timed_out',
      detail: '2 of 3 passes before time ran out',
    });
  });

  it('stops at once when abandoned', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    controller.abort();
    expect(
      await waitUntilHealthy(
        probe,
        target,
        { intervalMs: 1000, timeoutMs: 5000, successes: 1 },
        host(clock, 0),
        clock,
        controller.signal,
      ),
    ).toEqual({ outcome: 'abandoned' });
  });
});
