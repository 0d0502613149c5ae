import { describe, expect, it } from 'vitest';
import { formatDuration, formatSeconds, parseDuration } from '../../src/core/duration.js';

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['500ms', 500],
    ['1h30m', 5_400_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it.each(['', '30', '30 m', '1.5h', 'soon', '-5s'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('shows a span to the nearest second, never below zero', () => {
    expect(formatSeconds(4_400)).toBe('4s');
    expect(formatSeconds(125_600)).toBe('2m6s');
    expect(formatSeconds(0)).toBe('0s');
    expect(formatSeconds(-3_000)).toBe('0s');
  });
});
