import type { Clock } from '../../src/app/ports.js';

/** A clock whose time moves only when someone sleeps on it: timing logic without waiting. */
export class VirtualClock implements Clock {
  private time = 0;
  readonly sleeps: number[] = [];

  now(): number {
    return this.time;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    this.sleeps.push(ms);
    this.time += ms;
  }
}
