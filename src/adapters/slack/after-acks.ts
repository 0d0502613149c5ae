import type { RequestListener } from 'node:http';

/** How long after the last request came in or was answered work waits for more to come. */
export const QUIET_MS = 5;
/** Work never waits longer than this, however steadily requests keep coming. */
export const MAX_WAIT_MS = 200;

/**
 * Runs the work of commands and clicks after the acks of the requests that came in together.
 * One thread runs both: when a burst of slash commands arrives, the work of the first ones (the
 * store, the Web API) would otherwise run between the acks of the others, and Slack gives an ack
 * 3 s. So work waits until every request read has been answered and none came in for QUIET_MS,
 * and at most MAX_WAIT_MS. Work waits in memory, as it did before (from the ack on, a command is
 * the process's to finish): `settle` runs what waits and resolves once all of it is done, for a
 * stop that finishes what it acknowledged.
 */
export class AfterAcks {
  private unanswered = 0;
  private waiting: (() => Promise<void>)[] = [];
  private readonly running = new Set<Promise<void>>();
  private quiet: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;

  /** `next`, counting the requests it has not answered yet. */
  counting(next: RequestListener): RequestListener {
    return (request, response) => {
      this.unanswered += 1;
      this.clearQuiet();
      response.once('close', () => {
        this.unanswered -= 1;
        this.whenQuiet();
      });
      next(request, response);
    };
  }

  /** Runs `work` once the acks in flight are sent. */
  run(work: () => Promise<void>): void {
    this.waiting.push(work);
    this.deadline ??= setTimeout(() => this.start(), MAX_WAIT_MS);
    // Nothing in flight (Socket Mode, or the ack's response already closed): wait for quiet only.
    if (this.unanswered === 0 && this.quiet === undefined) this.whenQuiet();
  }

  /** Runs the work that waits now, and resolves once all work given so far is done. */
  async settle(): Promise<void> {
    this.start();
    clearTimeout(this.quiet);
    this.quiet = undefined;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private whenQuiet(): void {
    this.clearQuiet();
    if (this.unanswered === 0 && this.waiting.length > 0)
      this.quiet = setTimeout(() => {
        this.quiet = undefined;
        if (this.unanswered === 0) this.start();
      }, QUIET_MS);
  }

  private clearQuiet(): void {
    clearTimeout(this.quiet);
    this.quiet = undefined;
  }

  private start(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
    const work = this.waiting;
    this.waiting = [];
    for (const item of work) {
      // The caller's work reports its own failures; this only keeps track of what runs.
      const done = Promise.resolve()
        .then(item)
        .catch(() => {});
      this.running.add(done);
      void done.finally(() => this.running.delete(done));
    }
  }
}
