import { describe, expect, it } from 'vitest';
import type { HealthProbe, HostTarget, ProbeResult } from '../../src/app/ports.js';
import { ComingUp } from '../../src/app/worker/coming-up.js';
import { waitUntilHealthy } from '../../src/app/worker/wait-until-healthy.js';
import type { Probe } from '../../src/core/rollout/index.js';
import { VirtualClock } from '../support/virtual-clock.js';

const probe: Probe = { kind: 'tcp', address: 'h', port: 80, connectTimeoutMs: 100 };
const target: HostTarget = { name: 'h', address: 'h', port: 22, user: 'deploy' };
const timing = { intervalMs: 1000, timeoutMs: 60_000, successes: 1 };

/** A host that is down until `upAt` ms after `from`, then up; counts its checks. */
function host(clock: VirtualClock, upAt: number, from = clock.now()) {
  const probe = {
    checks: 0,
    check: async (): Promise<ProbeResult> => {
      probe.checks += 1;
      const up = clock.now() - from >= upAt;
      return { healthy: up, detail: up ? 'ok' : 'connection refused' };
    },
  };
  return probe satisfies HealthProbe;
}

const wait = (clock: VirtualClock, health: HealthProbe, comingUp?: ComingUp) =>
  waitUntilHealthy(probe, target, timing, health, clock, new AbortController().signal, comingUp);

describe('ComingUp', () => {
  it('leaves the usual pace alone until a host has been seen coming up', () => {
    expect(new ComingUp().delay(480, 25)).toBe(25);
  });

  it('checks closely around when the hosts seen so far came up, and at the usual pace elsewhere', () => {
    const comingUp = new ComingUp();
    comingUp.record(475, 500);
    comingUp.record(500, 525);
    comingUp.record(490, 515);
    // Expected at 502.5 (the middle one): close checks from 60 ms before to 120 ms after.
    expect(comingUp.delay(100, 25)).toBe(25);
    expect(comingUp.delay(430, 25)).toBeCloseTo(12.5);
    expect(comingUp.delay(450, 25)).toBe(10);
    expect(comingUp.delay(620, 25)).toBe(10);
    expect(comingUp.delay(630, 25)).toBe(25);
    // Never slower than the usual pace, whatever it is.
    expect(comingUp.delay(450, 3)).toBe(3);
  });

  it('learns nothing from a host whose checks were far apart (backed off to the interval)', () => {
    const comingUp = new ComingUp();
    comingUp.record(400, 1400);
    expect(comingUp.delay(900, 25)).toBe(25);
  });

  it('follows the most recent hosts when the service starts taking longer', () => {
    const comingUp = new ComingUp();
    for (let i = 0; i < 16; i++) comingUp.record(190, 210);
    for (let i = 0; i < 16; i++) comingUp.record(1990, 2010);
    expect(comingUp.delay(200, 25)).toBe(25);
    expect(comingUp.delay(2000, 25)).toBe(10);
  });
});

describe('waitUntilHealthy with the hosts seen coming up', () => {
  it('sees a host that comes up when the others did sooner than the usual pace would', async () => {
    const clock = new VirtualClock();
    const comingUp = new ComingUp();
    await wait(clock, host(clock, 500), comingUp);

    const usual = new VirtualClock();
    await wait(usual, host(usual, 512));
    const close = new VirtualClock();
    await wait(close, host(close, 512), comingUp);
    expect(usual.now()).toBe(525);
    expect(close.now()).toBeLessThanOrEqual(512 + 10);
  });

  it('learns from a host only when it saw it down first', async () => {
    const clock = new VirtualClock();
    const comingUp = new ComingUp();
    await wait(clock, host(clock, 0), comingUp);
    expect(comingUp.delay(0, 25)).toBe(25);
    await wait(clock, host(clock, 300), comingUp);
    expect(comingUp.delay(280, 25)).toBe(10);
  });

  it('costs few checks more than the usual pace', async () => {
    const clock = new VirtualClock();
    const comingUp = new ComingUp();
    await wait(clock, host(clock, 500), comingUp);
    const usual = host(clock, 600);
    await wait(clock, usual);
    const close = host(clock, 600);
    await wait(clock, close, comingUp);
    expect(close.checks).toBeLessThanOrEqual(usual.checks + 12);
  });
});
