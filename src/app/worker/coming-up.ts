/**
 * When this rollout's hosts have come up, counted from the start of each one's health wait, so
 * that the checks of the hosts still coming cluster around that moment. A group is done when its
 * last host is seen healthy, so the gap between a host coming up and the check that sees it is
 * paid once per group; hosts of one service restarted the same way come up after much the same
 * time, and the first ones to come up tell when to look closely at the rest.
 */
export class ComingUp {
  private readonly seen: number[] = [];
  /** The median of `seen`, kept as hosts are recorded: asked for on every failed check. */
  private expected: number | undefined;

  /** A host passed its first check `passedAt` ms into its wait; its check before failed at `failedAt`. */
  record(failedAt: number, passedAt: number): void {
    // Checks far apart (backed off to the interval) say too little of when it came up.
    if (passedAt - failedAt > PRECISE_MS) return;
    this.seen.push((failedAt + passedAt) / 2);
    if (this.seen.length > KEPT) this.seen.shift();
    const sorted = [...this.seen].sort((a, b) => a - b);
    this.expected = sorted[Math.floor((sorted.length - 1) / 2)];
  }

  /** The wait before the next check of a host `elapsed` ms into its wait, given the usual one. */
  delay(elapsed: number, usual: number): number {
    const { expected } = this;
    if (expected === undefined) return usual;
    if (elapsed < expected - BEFORE_MS) return Math.min(usual, expected - BEFORE_MS - elapsed);
    if (elapsed <= expected + AFTER_MS) return Math.min(usual, CLOSE_MS);
    return usual;
  }
}

const PRECISE_MS = 100;
/** The most recent hosts are the best guide: a service's start-up can change during a rollout. */
const KEPT = 16;
/**
 * The window of close checks around the expected moment: a host's wait starts when its restart
 * command is seen finished, which spreads by a few tens of milliseconds when a group restarts at
 * once; past the window a host is checked at the usual pace again.
 */
const BEFORE_MS = 60;
const AFTER_MS = 120;
/**
 * Measured on the fleet bench (60 hosts, groups of 10): 10 ms saw hosts as soon as 5 ms did, with
 * half the checks (~18 a host); 25 ms, the pace without this, saw them ~13 ms later.
 */
const CLOSE_MS = 10;
