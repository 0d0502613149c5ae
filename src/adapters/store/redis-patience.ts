import pRetry from 'p-retry';

/**
 * Replies of a Redis that is failing over or starting (a blocked read let go, writes refused by a
 * replica, a dataset still loading) and connections cut on the way: all pass on their own.
 */
const PASSING_REPLY = /^(UNBLOCKED|READONLY|LOADING|MASTERDOWN|TRYAGAIN)\b/;
const PASSING_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

export function isPassingRedisError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (
    PASSING_REPLY.test(error.message) ||
    (code !== undefined && PASSING_CODES.has(code)) ||
    error.message === 'Connection is closed.'
  );
}

/**
 * Runs Redis calls that may wait out a failover: a passing error is retried (after 100 ms, then
 * longer, at most 2 s apart) for as long as it takes, and `say` hears once per spell of trouble;
 * any other error is thrown.
 */
export function patientRedis(
  say: (message: string) => void,
): <T>(call: () => Promise<T>) => Promise<T> {
  let troubled = false;
  return async (call) => {
    const result = await pRetry(call, {
      retries: Infinity,
      minTimeout: 100,
      maxTimeout: 2000,
      shouldRetry: ({ error }) => {
        if (!isPassingRedisError(error)) return false;
        if (!troubled)
          say(`Redis is not answering (${error.message}); following on as soon as it does`);
        troubled = true;
        return true;
      },
    });
    troubled = false;
    return result;
  };
}
