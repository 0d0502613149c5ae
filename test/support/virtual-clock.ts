import type { Clock } from '../../src/app/ports.js';

/**
 * A clock whose time moves only when someone sleeps on it (or a test moves it): timing logic
 * without waiting. A sleep lets the event loop turn once, so a loop that sleeps on it cannot
 * starve the rest of the process.
 */
export class VirtualClock implements Clock {
  readonly sleeps: number[] = [];

  constructor(private time = 0) {}

  now(): number {
    return this.time;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    this.sleeps.push(ms);
    this.time += ms;
    await new Promise((resolve) => setImmediate(resolve));
  }

  advance(ms: number): void {
    this.time += ms;
  }
}
