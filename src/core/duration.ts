/**
 * Durations as people type them: `90s`, `30m`, `2h`, `500ms`, or compounds like `1h30m`.
 * Kept strict (no spaces, no words) so a typo is an error rather than a surprise.
 */
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;

const WHOLE = /^(?:\d+(?:ms|d|h|m|s))+$/;
const PART = /(\d+)(ms|d|h|m|s)/g;

export const DURATION_EXAMPLES = '90s, 30m, 2h, 500ms or 1h30m';

export function parseDuration(text: string): number | undefined {
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as Unit];
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** The shortest exact spelling: formatDuration(parseDuration(x)) parses back to the same value. */
export function formatDuration(totalMs: number): string {
  if (totalMs === 0) return '0s';
  let rest = totalMs;
  let text = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit];
    const amount = Math.floor(rest / size);
    if (amount > 0) {
      text += `${amount}${unit}`;
      rest -= amount * size;
    }
  }
  return text;
}

/** A span of time to the nearest second, as people read it: `4s`, `2m5s`, `0s`. */
export function formatSeconds(ms: number): string {
  return formatDuration(Math.max(0, Math.round(ms / 1000) * 1000));
}
