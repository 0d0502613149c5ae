/**
 * When to send the next update of a live message: at most one per `minIntervalMs`, changes in
 * between coalesced into it, nothing before a rate limit's Retry-After has passed, and the last
 * state always sent. Pure: the caller keeps the state and the timer.
 */
export interface Pacer {
  lastSentAt: number | null;
  /** A change not yet sent. */
  dirty: boolean;
  /** No call before this instant (a 429's Retry-After). */
  blockedUntil: number;
}

export const MIN_INTERVAL_MS = 1000;

export function newPacer(): Pacer {
  return { lastSentAt: null, dirty: false, blockedUntil: 0 };
}

export function changed(pacer: Pacer): Pacer {
  return { ...pacer, dirty: true };
}

/** When the pending change may go out, or undefined when there is nothing to send. */
export function sendAt(pacer: Pacer, minIntervalMs = MIN_INTERVAL_MS): number | undefined {
  if (!pacer.dirty) return undefined;
  const paced = pacer.lastSentAt === null ? 0 : pacer.lastSentAt + minIntervalMs;
  return Math.max(paced, pacer.blockedUntil);
}

export function sent(pacer: Pacer, now: number): Pacer {
  return { ...pacer, lastSentAt: now, dirty: false };
}

/** Slack answered 429: wait as long as it says, then send the newest state (still dirty). */
export function rateLimited(pacer: Pacer, now: number, retryAfterSeconds: number): Pacer {
  return {
    ...pacer,
    dirty: true,
    blockedUntil: Math.max(pacer.blockedUntil, now + Math.max(1, retryAfterSeconds) * 1000),
  };
}
