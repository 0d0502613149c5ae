import type { Plan, Probe } from '../../core/rollout/index.js';
import type { Clock, HealthProbe, HostTarget } from '../ports.js';
import type { ComingUp } from './coming-up.js';

export type HealthOutcome =
  | { outcome: 'passed'; attempts: number }
  | { outcome: 'timed_out'; attempts: number; detail: string }
  | { outcome: 'abandoned' };

/**
 * Most hosts come up within a couple of seconds of their restart, and every millisecond between
 * "up" and "seen up" is added to the rollout once per group. So check often at first, then
 * back off to the playbook's interval for hosts that take longer.
 */
const FAST_DELAY_MS = 25;
const FAST_WINDOW_MS = 2000;
const BACKOFF = 1.5;

/**
 * Polls one host until `successes` checks in a row pass, or the health timeout runs out.
 * Passes in a streak are spaced by the playbook's interval, so they mean the host stayed up.
 * With `comingUp`, failed checks cluster where the rollout's other hosts came up, and this host's
 * coming up is added to it.
 */
export async function waitUntilHealthy(
  probe: Probe,
  target: HostTarget,
  timing: Plan['health'],
  health: HealthProbe,
  clock: Clock,
  signal: AbortSignal,
  comingUp?: ComingUp,
): Promise<HealthOutcome> {
  const started = clock.now();
  const deadline = started + timing.timeoutMs;
  let delay = Math.min(FAST_DELAY_MS, timing.intervalMs);
  let streak = 0;
  let attempts = 0;
  let detail = 'not checked yet';
  let failedAt: number | undefined;
  let cameUp = false;
  for (;;) {
    if (signal.aborted) return { outcome: 'abandoned' };
    attempts += 1;
    const checkedAt = clock.now() - started;
    const result = await health.check(probe, target, signal);
    if (signal.aborted) return { outcome: 'abandoned' };
    if (result.healthy) {
      if (!cameUp && failedAt !== undefined) comingUp?.record(failedAt, checkedAt);
      cameUp = true;
      streak += 1;
      if (streak >= timing.successes) return { outcome: 'passed', attempts };
    } else {
      streak = 0;
      detail = result.detail;
      failedAt = checkedAt;
    }
    const wait = result.healthy
      ? timing.intervalMs
      : (comingUp?.delay(clock.now() - started, delay) ?? delay);
    if (clock.now() - started >= FAST_WINDOW_MS)
      delay = Math.min(Math.ceil(delay * BACKOFF), timing.intervalMs);
    if (clock.now() + wait > deadline) {
      return {
        outcome: 'timed_out',
        attempts,
        detail: streak > 0 ? `${streak} of ${timing.successes} passes before time ran out` : detail,
      };
    }
    await clock.sleep(wait, signal);
  }
}
