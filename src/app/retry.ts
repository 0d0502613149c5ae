import pRetry from 'p-retry';

/** How hard to try a call that may fail for a moment (a Redis failover, a dropped connection). */
export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** An attempt that has not answered after this long counts as failed (a hung connection). */
  attemptTimeoutMs: number;
}

/**
 * About twenty seconds of trying, with jittered doubling up to 5 s apart: a failover is over by
 * then, and a rollout waiting on its checkpoint meanwhile starts nothing, so it pauses rather
 * than suspends (which would repeat the steps in flight). An attempt may take 15 s before it
 * counts as hung (a following terminal blocks up to a second in a read).
 */
export const STORE_RETRY: RetryPolicy = {
  retries: 8,
  minTimeoutMs: 200,
  maxTimeoutMs: 5000,
  attemptTimeoutMs: 15_000,
};

export class CallTimedOutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'CallTimedOutError';
  }
}

function bounded<T>(call: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimedOutError(what, ms)), ms);
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The port with every method retried under `policy`, saying each failed attempt to `onRetry`.
 * Store calls are safe to repeat (writes are keyed or compare-and-set), which is what makes
 * retrying the whole port honest; the caller hears the last error when every attempt failed.
 */
export function retryingPort<T extends object>(
  port: T,
  name: string,
  policy: RetryPolicy,
  onRetry: (message: string) => void,
): T {
  return new Proxy(port, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const what = `${name}.${String(property)}`;
      return (...args: unknown[]) =>
        pRetry(
          () =>
            bounded(
              (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
              what,
              policy.attemptTimeoutMs,
            ),
          {
            retries: policy.retries,
            minTimeout: policy.minTimeoutMs,
            maxTimeout: policy.maxTimeoutMs,
            randomize: true,
            onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
              if (retriesLeft > 0)
                onRetry(
                  `${what} failed (attempt ${attemptNumber}), trying again: ${error.message}`,
                );
            },
          },
        );
    },
  });
}
