import pRetry from 'p-retry';

/** How hard to try a call that may fail for a moment (a Redis failover, a dropped connection). */
export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

/** About six seconds of trying, with jittered doubling: enough to ride out a failover. */
export const STORE_RETRY: RetryPolicy = { retries: 5, minTimeoutMs: 200, maxTimeoutMs: 3000 };

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
      return (...args: unknown[]) =>
        pRetry(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args), {
          retries: policy.retries,
          minTimeout: policy.minTimeoutMs,
          maxTimeout: policy.maxTimeoutMs,
          randomize: true,
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            if (retriesLeft > 0)
              onRetry(
                `${name}.${String(property)} failed (attempt ${attemptNumber}), trying again: ${error.message}`,
              );
          },
        });
    },
  });
}
