import { describe, expect, it } from 'vitest';
import { CallTimedOutError, retryingPort } from '../../src/app/retry.js';

const quick = { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 1, attemptTimeoutMs: 50 };

/** A store whose calls fail (or hang) the first `failures` times. */
function flaky(failures: number, how: 'reject' | 'hang') {
  let calls = 0;
  return {
    calls: () => calls,
    port: {
      async read(key: string): Promise<string> {
        calls += 1;
        if (calls <= failures) {
          if (how === 'hang') return new Promise<string>(() => {});
          throw new Error('READONLY You can not write against a read only replica.');
        }
        return `value of ${key}`;
      },
      name: 'not a method',
    },
  };
}

describe('retryingPort', () => {
  it('tries a failing call again, and answers with what the call finally answers', async () => {
    const store = flaky(2, 'reject');
    const retries: string[] = [];
    const port = retryingPort(store.port, 'store', quick, (line) => void retries.push(line));
    expect(await port.read('k')).toBe('value of k');
    expect(store.calls()).toBe(3);
    expect(retries).toEqual([
      expect.stringMatching(/^store\.read failed \(attempt 1\), trying again: READONLY/),
      expect.stringMatching(/^store\.read failed \(attempt 2\), trying again: READONLY/),
    ]);
    expect(port.name).toBe('not a method');
  });

  it('gives the caller the last error once every attempt failed', async () => {
    const store = flaky(10, 'reject');
    const port = retryingPort(store.port, 'store', quick, () => {});
    await expect(port.read('k')).rejects.toThrow('READONLY');
    expect(store.calls()).toBe(3);
  });

  it('counts an attempt that never answers as failed, and tries again', async () => {
    const store = flaky(1, 'hang');
    const port = retryingPort(store.port, 'store', quick, () => {});
    expect(await port.read('k')).toBe('value of k');
    const stuck = retryingPort(flaky(10, 'hang').port, 'store', quick, () => {});
    await expect(stuck.read('k')).rejects.toBeInstanceOf(CallTimedOutError);
  });
});
