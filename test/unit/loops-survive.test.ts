import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { handleCommand } from '../../src/app/chatops/handle-command.js';
import { guardProcess } from '../../src/cli/process-guard.js';
import { ChatWorld, twoGroups } from '../support/chat-world.js';
import { until } from '../support/until.js';

/** Makes `method` of `port` fail its next `times` calls. */
function breakFor<T extends object>(port: T, method: keyof T & string, times: number): void {
  const real = (port[method] as (...args: unknown[]) => Promise<unknown>).bind(port);
  let left = times;
  (port as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    if (left-- > 0) throw new Error(`injected: ${method} failed`);
    return real(...args);
  };
}

describe('every background loop catches, says so, and goes on', () => {
  it('the chat view: the outbox, its rendering, a followed rollout, and the housekeeping failing in turn', async () => {
    const world = new ChatWorld([twoGroups()]);
    await handleCommand(world.front, 'parser v2', world.from('UALICE'));
    breakFor(world.outbox, 'unsettled', 2);
    breakFor(world.deps.requests, 'approval', 2);
    breakFor(world.deps.requests, 'pending', 2);
    world.view.start();
    try {
      // A real loop, on real timers: it gets there in spite of each failure.
      await until(async () => (await world.message('approval:id-1')) !== undefined, {
        what: 'the approval message',
      });
    } finally {
      await world.view.stop();
    }
    expect(world.warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining('looking at the outbox: injected: unsettled failed'),
        expect.stringContaining('delivering approval:id-1: injected: approval failed'),
        expect.stringContaining('housekeeping of requests: injected: pending failed'),
      ]),
    );
  });

  it('a rollout’s follower that cannot read its updates', async () => {
    const world = new ChatWorld([twoGroups()]);
    await handleCommand(world.front, 'parser v2 to staging', world.from('UCAROL'));
    await world.rolloutsIdle();
    breakFor(world.deps.rollouts, 'read', 1);
    await world.view.sweep({ wait: true });
    expect(world.warnings).toEqual([
      expect.stringContaining('looking at the outbox: injected: read failed'),
    ]);
    await world.deliver();
    expect((await world.outbox.get('rollout:id-1'))?.settled).toBe(true);
  });
});

describe('the process guard', () => {
  function guarded() {
    const events = new EventEmitter();
    const exits: number[] = [];
    const lines: string[] = [];
    const target = Object.assign(events, { exit: (code: number) => void exits.push(code) });
    const guard = guardProcess(target, (line) => void lines.push(line), 10_000);
    return { events, exits, lines, guard };
  }

  it('stops a running command through its graceful path on an unhandled rejection, and says why', () => {
    const { events, exits, lines, guard } = guarded();
    const stops: string[] = [];
    guard.onStop(() => void stops.push('worker'));
    events.emit('unhandledRejection', new Error('ECONNRESET'));
    expect(stops).toEqual(['worker']);
    expect(exits).toEqual([]);
    expect(guard.crashed()).toBe(true);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 'fatal',
      msg: 'baton: a promise failed and nothing handled it; stopping as on SIGTERM',
      err: expect.stringContaining('ECONNRESET'),
    });
    // A second crash while stopping is logged, and stops nothing twice.
    events.emit('uncaughtException', new Error('again'));
    expect(stops).toEqual(['worker']);
    expect(lines).toHaveLength(2);
  });

  it('exits at once when no command has a graceful path', () => {
    const { events, exits } = guarded();
    events.emit('uncaughtException', new Error('boom'));
    expect(exits).toEqual([1]);
  });
});
