/** What running an inventory command (hosts_from) gave. Output is bounded and has no secrets in it. */
export type InventoryRun =
  | { ok: true; stdout: string }
  | {
      ok: false;
      reason: 'failed' | 'timed_out' | 'too_much_output';
      /** null when it did not exit by itself (killed at its timeout, or it could not start). */
      exitCode: number | null;
      /** The end of what it wrote (stderr, else stdout), for the person who has to fix it. */
      output: string;
    };

/** Runs the commands that list a group's hosts, on this machine. */
export interface InventorySource {
  list(command: string, options: { timeoutMs: number }): Promise<InventoryRun>;
}
