import { DateTime } from 'luxon';

export type TimeResult =
  { ok: true; runAt: number } | { ok: false; reason: 'invalid' | 'past' | 'bad_zone' };

const CLOCK = /^([01]?\d|2[0-3]):([0-5]\d)$/;

export function isValidTimeZone(zone: string): boolean {
  // The default, checked by every command at start: asking luxon sets up its locale (~15 ms).
  if (zone === 'UTC') return true;
  return DateTime.fromMillis(0, { zone }).isValid;
}

/**
 * `17:00` is the next time the clock in `timeZone` shows 17:00 after `now` (today or tomorrow);
 * anything else must be an ISO-8601 timestamp, read in `timeZone` when it has no offset.
 */
export function resolveTime(text: string, now: number, timeZone: string): TimeResult {
  if (!isValidTimeZone(timeZone)) return { ok: false, reason: 'bad_zone' };
  const clock = CLOCK.exec(text);
  if (clock !== null) {
    const today = DateTime.fromMillis(now, { zone: timeZone }).set({
      hour: Number(clock[1]),
      minute: Number(clock[2]),
      second: 0,
      millisecond: 0,
    });
    const next = today.toMillis() > now ? today : today.plus({ days: 1 });
    return { ok: true, runAt: next.toMillis() };
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return { ok: false, reason: 'invalid' };
  const instant = DateTime.fromISO(text, { zone: timeZone });
  if (!instant.isValid) return { ok: false, reason: 'invalid' };
  if (instant.toMillis() <= now) return { ok: false, reason: 'past' };
  return { ok: true, runAt: instant.toMillis() };
}

export function formatInstant(epochMs: number): string {
  return DateTime.fromMillis(epochMs, { zone: 'utc' }).toISO() ?? String(epochMs);
}
