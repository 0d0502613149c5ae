/** What the guard needs of a process: its crash events, and a way out. */
export interface GuardedProcess {
  on(event: 'unhandledRejection' | 'uncaughtException', listener: (reason: unknown) => void): void;
  exit(code: number): void;
}

/**
 * Turns a crash (a promise nobody handled, an exception nobody caught) into a stop through the
 * graceful path: it is logged, the running command is asked to stop as on SIGTERM (its rollouts
 * suspend, to be resumed elsewhere), and the process ends with status 1. A command that has no
 * graceful path (nothing is listening) exits at once; one that takes too long is cut short.
 */
export function guardProcess(
  target: GuardedProcess,
  write: (line: string) => void,
  graceMs = 60_000,
): { onStop(stop: () => void): () => void; crashed(): boolean } {
  const stoppers = new Set<() => void>();
  let crashed = false;
  const fatal = (what: string) => (reason: unknown) => {
    const message = reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
    write(
      `${JSON.stringify({ level: 'fatal', time: Date.now(), msg: `baton: ${what}; stopping as on SIGTERM`, err: message })}\n`,
    );
    if (crashed) return;
    crashed = true;
    if (stoppers.size === 0) return target.exit(1);
    for (const stop of [...stoppers]) stop();
    setTimeout(() => target.exit(1), graceMs).unref();
  };
  target.on('unhandledRejection', fatal('a promise failed and nothing handled it'));
  target.on('uncaughtException', fatal('an exception was not caught'));
  return {
    onStop(stop) {
      stoppers.add(stop);
      return () => void stoppers.delete(stop);
    },
    crashed: () => crashed,
  };
}
