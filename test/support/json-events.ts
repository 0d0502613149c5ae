/** A rollout event as `baton deploy --json` prints it (the fields tests look at). */
export interface JsonEvent {
  type: string;
  group?: string;
  host?: string;
  worker?: string;
  at?: number;
}

/** The rollout events a `baton deploy --json` printed, in order. */
export function printedEvents(stdout: string): JsonEvent[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as JsonEvent);
}
