import { describe, expect, it } from 'vitest';
import { patientRedis } from '../../src/adapters/store/redis-patience.js';

/** A call that fails with each of `errors` in turn, then answers `answer`. */
function failing(errors: Error[], answer: string) {
  let calls = 0;
  return {
    call: async () => {
      const error = errors[calls];
      calls += 1;
      if (error !== undefined) throw error;
      return answer;
    },
    calls: () => calls,
  };
}

describe('patientRedis', () => {
  it('waits out a failover’s errors, saying so once for each spell of them', async () => {
    const said: string[] = [];
    const patiently = patientRedis((message) => said.push(message));
    const readonly = new Error("READONLY You can't write against a read only replica.");
    const unblocked = new Error('UNBLOCKED force unblock from blocking operation');
    const first = failing([unblocked, readonly], 'first');
    expect(await patiently(first.call)).toBe('first');
    expect(first.calls()).toBe(3);
    expect(said).toEqual([
      'Redis is not answering (UNBLOCKED force unblock from blocking operation); following on as soon as it does',
    ]);
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(await patiently(failing([reset], 'second').call)).toBe('second');
    expect(said).toHaveLength(2);
  });

  it('throws any other error at once', async () => {
    const patiently = patientRedis(() => {});
    const wrongType = failing([new Error('WRONGTYPE Operation against a key')], 'never');
    await expect(patiently(wrongType.call)).rejects.toThrow(/^WRONGTYPE/);
    expect(wrongType.calls()).toBe(1);
  });
});
