/**
 * Waits for a condition that something else (a process, a server, a worker) makes true, looking
 * every few milliseconds; fails saying what was awaited when it is not true in time.
 */
export async function until<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  within: number | { ms?: number; what?: string } = {},
): Promise<T> {
  const { ms = 20_000, what = 'the condition' } =
    typeof within === 'number' ? { ms: within } : within;
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what} not seen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
