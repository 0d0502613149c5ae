import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AfterAcks, MAX_WAIT_MS, QUIET_MS } from '../../src/adapters/slack/after-acks.js';

/** A request the listener has read; `answer()` is the response closing, as after an ack. */
function arrive(listener: ReturnType<AfterAcks['counting']>): { answer(): void } {
  const response = new EventEmitter();
  listener({} as IncomingMessage, response as unknown as ServerResponse);
  return { answer: () => void response.emit('close') };
}

let afterAcks: AfterAcks;
let listener: ReturnType<AfterAcks['counting']>;
let done: string[];
const work = (name: string) => () => {
  done.push(name);
  return Promise.resolve();
};

beforeEach(() => {
  vi.useFakeTimers();
  afterAcks = new AfterAcks();
  listener = afterAcks.counting(() => {});
  done = [];
});
afterEach(() => vi.useRealTimers());

describe('work after the acks', () => {
  it('waits until every request read is answered, then runs', async () => {
    const first = arrive(listener);
    const second = arrive(listener);
    first.answer();
    afterAcks.run(work('first'));
    await vi.advanceTimersByTimeAsync(QUIET_MS * 4);
    expect(done).toEqual([]);
    second.answer();
    await vi.advanceTimersByTimeAsync(QUIET_MS);
    expect(done).toEqual(['first']);
  });

  it('waits for a request that comes in just after the last answer', async () => {
    const first = arrive(listener);
    afterAcks.run(work('first'));
    first.answer();
    await vi.advanceTimersByTimeAsync(QUIET_MS - 1);
    const second = arrive(listener);
    await vi.advanceTimersByTimeAsync(QUIET_MS * 4);
    expect(done).toEqual([]);
    second.answer();
    await vi.advanceTimersByTimeAsync(QUIET_MS);
    expect(done).toEqual(['first']);
  });

  it('runs at once when nothing is in flight (Socket Mode)', async () => {
    afterAcks.run(work('alone'));
    await vi.advanceTimersByTimeAsync(QUIET_MS);
    expect(done).toEqual(['alone']);
  });

  it('never waits longer than the limit, however steadily requests come', async () => {
    arrive(listener);
    afterAcks.run(work('first'));
    await vi.advanceTimersByTimeAsync(MAX_WAIT_MS - 1);
    expect(done).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toEqual(['first']);
  });

  it('on settle runs what waits and resolves once it is done', async () => {
    arrive(listener);
    let finish!: () => void;
    afterAcks.run(() => new Promise<void>((resolve) => (finish = resolve)));
    afterAcks.run(work('second'));
    let settled = false;
    const settling = afterAcks.settle().then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toEqual(['second']);
    expect(settled).toBe(false);
    finish();
    await settling;
    expect(settled).toBe(true);
  });

  it('keeps running the rest when one piece of work fails', async () => {
    afterAcks.run(() => Promise.reject(new Error('down')));
    afterAcks.run(work('next'));
    await afterAcks.settle();
    expect(done).toEqual(['next']);
  });
});
