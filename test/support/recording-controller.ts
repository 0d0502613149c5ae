import type { CommandResult, ControllerShell } from '../../src/app/ports.js';

/** A controller shell that keeps each command it was given and answers as told (exit 0 by default). */
export class RecordingController implements ControllerShell {
  readonly commands: string[] = [];
  private readonly failing = new Map<string, number>();

  /** Commands containing `text` exit with `exitCode` from now on. */
  failWhen(text: string, exitCode = 1): void {
    this.failing.set(text, exitCode);
  }

  run(command: string): Promise<CommandResult> {
    this.commands.push(command);
    const failure = [...this.failing].find(([text]) => command.includes(text));
    return Promise.resolve({
      exitCode: failure?.[1] ?? 0,
      timedOut: false,
      stdoutTail: '',
      stderrTail: failure === undefined ? '' : `refused: ${failure[0]}`,
      durationMs: 1,
    });
  }
}
