/** When a scheduled rollback runs: an absolute instant (from `at`) or a delay (from `in`). */
export type Schedule = { kind: 'at'; runAt: number } | { kind: 'in'; delayMs: number };

/** `--hosts` / `--groups`: names as given, without repeats. */
export interface TargetFilter {
  hosts?: string[];
  groups?: string[];
}

export type Command =
  | ({
      verb: 'deploy';
      service: string;
      version: string;
      environment?: string;
      dryRun: boolean;
      rollbackAfterMs?: number;
    } & TargetFilter)
  | ({
      verb: 'rollback';
      service: string;
      version?: string;
      environment?: string;
      schedule?: Schedule;
    } & TargetFilter)
  | ({ verb: 'restart'; service: string; environment?: string } & TargetFilter)
  | { verb: 'status'; service?: string }
  | { verb: 'history'; service: string; environment?: string }
  | { verb: 'cancel'; service: string; environment?: string }
  | { verb: 'schedules' }
  | { verb: 'lock'; service: string; environment?: string; reason?: string }
  | { verb: 'unlock'; service: string; environment?: string }
  | { verb: 'help'; topic?: Verb };

export type Verb = Command['verb'];

export type CommandErrorCode =
  | 'missing_argument'
  | 'unexpected_token'
  | 'invalid_name'
  | 'invalid_version'
  | 'invalid_duration'
  | 'invalid_time'
  | 'time_in_past'
  | 'too_far_ahead'
  | 'unknown_flag'
  | 'invalid_filter'
  | 'duplicate_option'
  | 'unterminated_quote'
  | 'invalid_reason'
  | 'invalid_timezone';

export interface CommandError {
  code: CommandErrorCode;
  /** One line saying what was wrong, naming the offending token. */
  message: string;
  token?: string;
  /** The usage line of the verb that was being parsed (or of every verb). */
  usage: string;
}

export type ParseResult = { ok: true; command: Command } | { ok: false; error: CommandError };

export interface ParseContext {
  /** The instant `at 17:00` and `in 30m` are measured from, in epoch milliseconds. */
  now: number;
  /** IANA zone used for times without an offset, e.g. `Europe/Berlin`. */
  timeZone: string;
}
