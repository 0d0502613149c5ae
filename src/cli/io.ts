/** What the CLI needs from its process, passed in so commands can be run and tested in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  now: () => number;
  /** True when a person is at a terminal: progress updates in place and questions can be asked. */
  interactive?: boolean;
  /** Asks a question at the terminal; resolves with the answer line. */
  ask?: (question: string) => Promise<string>;
  /** Calls `handler` on Ctrl-C / SIGTERM until the returned function is called. */
  onInterrupt?: (handler: () => void) => () => void;
  /**
   * Lines typed at the terminal (or piped in), until end of input, showing `prompt` when
   * interactive; `close` lets go of the terminal.
   */
  lines?: (prompt: string) => { lines: AsyncIterable<string>; close(): void };
  /** Names this process in JSON events (hostname:pid). */
  worker?: string;
}
