import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatCommand,
  helpText,
  isValidTimeZone,
  parseCommand,
  RESERVED_SERVICE_NAMES,
  USAGE,
  type Command,
  type ParseContext,
} from '../../src/core/command/index.js';

// Sunday 2026-11-29 10:15 UTC = 11:15 in Berlin.
const NOW = Date.UTC(2026, 10, 29, 10, 15);
const context: ParseContext = { now: NOW, timeZone: 'Europe/Berlin' };
const parse = (text: string) => parseCommand(text, context);

function ok(text: string): Command {
  const result = parse(text);
  if (!result.ok) throw new Error(`expected ${text} to parse: ${result.error.message}`);
  return result.command;
}

function error(text: string) {
  const result = parse(text);
  if (result.ok) throw new Error(`expected ${text} to fail, got ${JSON.stringify(result.command)}`);
  return result.error;
}

describe('every form of the grammar', () => {
  it.each<[string, Command]>([
    ['parser v1.4', { verb: 'deploy', service: 'parser', version: 'v1.4', dryRun: false }],
    [
      'parser v1.4 to staging',
      { verb: 'deploy', service: 'parser', version: 'v1.4', environment: 'staging', dryRun: false },
    ],
    ['parser v1.4 --dry-run', { verb: 'deploy', service: 'parser', version: 'v1.4', dryRun: true }],
    [
      'parser v1.4 --rollback-after 30m',
      {
        verb: 'deploy',
        service: 'parser',
        version: 'v1.4',
        dryRun: false,
        rollbackAfterMs: 1_800_000,
      },
    ],
    [
      'parser v1.4 --rollback-after=90s to production --dry-run',
      {
        verb: 'deploy',
        service: 'parser',
        version: 'v1.4',
        environment: 'production',
        dryRun: true,
        rollbackAfterMs: 90_000,
      },
    ],
    ['rollback parser', { verb: 'rollback', service: 'parser' }],
    ['rollback parser v1.3', { verb: 'rollback', service: 'parser', version: 'v1.3' }],
    ['rollback parser to staging', { verb: 'rollback', service: 'parser', environment: 'staging' }],
    [
      'rollback parser v1.3 to staging in 2h',
      {
        verb: 'rollback',
        service: 'parser',
        version: 'v1.3',
        environment: 'staging',
        schedule: { kind: 'in', delayMs: 7_200_000 },
      },
    ],
    [
      'rollback parser in 30m',
      { verb: 'rollback', service: 'parser', schedule: { kind: 'in', delayMs: 1_800_000 } },
    ],
    ['restart parser', { verb: 'restart', service: 'parser' }],
    ['restart parser to staging', { verb: 'restart', service: 'parser', environment: 'staging' }],
    ['status', { verb: 'status' }],
    ['status parser', { verb: 'status', service: 'parser' }],
    [
      'history parser to production',
      { verb: 'history', service: 'parser', environment: 'production' },
    ],
    ['cancel parser', { verb: 'cancel', service: 'parser' }],
    ['schedules', { verb: 'schedules' }],
    ['lock parser', { verb: 'lock', service: 'parser' }],
    [
      'lock parser to production "db migration, back at 3"',
      {
        verb: 'lock',
        service: 'parser',
        environment: 'production',
        reason: 'db migration, back at 3',
      },
    ],
    ['lock parser db migration', { verb: 'lock', service: 'parser', reason: 'db migration' }],
    [
      'lock parser \u201cwaiting on #412\u201d',
      { verb: 'lock', service: 'parser', reason: 'waiting on #412' },
    ],
    ['unlock parser to staging', { verb: 'unlock', service: 'parser', environment: 'staging' }],
    ['help', { verb: 'help' }],
    ['help rollback', { verb: 'help', topic: 'rollback' }],
    ['', { verb: 'help' }],
    ['   ', { verb: 'help' }],
    ['ROLLBACK parser TO staging', { verb: 'rollback', service: 'parser', environment: 'staging' }],
    [
      'parser "v1.4; rm -rf /"',
      { verb: 'deploy', service: 'parser', version: 'v1.4; rm -rf /', dryRun: false },
    ],
    ['rollback parser "to"', { verb: 'rollback', service: 'parser', version: 'to' }],
  ])('%s', (text, expected) => {
    expect(ok(text)).toEqual(expected);
  });
});

describe('times', () => {
  it('resolves 17:00 to today in the configured zone when it is still ahead', () => {
    const command = ok('rollback parser at 17:00');
    expect(command).toEqual({
      verb: 'rollback',
      service: 'parser',
      schedule: { kind: 'at', runAt: Date.UTC(2026, 10, 29, 16, 0) },
    });
  });

  it('resolves 09:00 to tomorrow when it has passed today', () => {
    const command = ok('rollback parser at 9:00');
    expect(command).toMatchObject({
      schedule: { kind: 'at', runAt: Date.UTC(2026, 10, 30, 8, 0) },
    });
  });

  it('uses the zone: the same text in New York is six hours later', () => {
    const result = parseCommand('rollback parser at 17:00', {
      now: NOW,
      timeZone: 'America/New_York',
    });
    expect(result).toMatchObject({
      ok: true,
      command: { schedule: { runAt: Date.UTC(2026, 10, 29, 22, 0) } },
    });
  });

  it('crosses a DST change by wall clock, not by 24 hours', () => {
    // 2026-03-29 is the spring-forward day in Berlin; 02:00 local on the 28th, ask for 01:30.
    const now = Date.UTC(2026, 2, 28, 1, 0);
    const result = parseCommand('rollback parser at 01:30', { now, timeZone: 'Europe/Berlin' });
    // 01:30 CET on the 29th is 00:30 UTC (the jump happens at 02:00).
    expect(result).toMatchObject({
      ok: true,
      command: { schedule: { runAt: Date.UTC(2026, 2, 29, 0, 30) } },
    });
  });

  it('reads ISO timestamps with an offset, and without one in the configured zone', () => {
    expect(ok('rollback parser at 2026-12-01T17:00:00Z')).toMatchObject({
      schedule: { runAt: Date.UTC(2026, 11, 1, 17) },
    });
    expect(ok('rollback parser at 2026-12-01T17:00')).toMatchObject({
      schedule: { runAt: Date.UTC(2026, 11, 1, 16) },
    });
  });

  it.each([
    ['rollback parser at 2026-01-01T00:00Z', 'time_in_past'],
    ['rollback parser at 25:00', 'invalid_time'],
    ['rollback parser at tomorrow', 'invalid_time'],
    ['rollback parser at 2026-13-01T10:00', 'invalid_time'],
    ['rollback parser at 2027-06-01T10:00Z', 'too_far_ahead'],
    ['rollback parser in 31d', 'too_far_ahead'],
    ['rollback parser in 0s', 'invalid_duration'],
    ['rollback parser in soon', 'invalid_duration'],
    ['rollback parser at', 'missing_argument'],
  ])('%s → %s', (text, code) => {
    expect(error(text).code).toBe(code);
  });

  it('reports a bad configured zone as a configuration problem', () => {
    const result = parseCommand('rollback parser at 17:00', { now: NOW, timeZone: 'Mars/Olympus' });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_timezone' } });
  });

  it('knows the zones luxon knows, the default UTC among them', () => {
    for (const zone of ['UTC', 'utc', 'Europe/Berlin', 'UTC+3'])
      expect(isValidTimeZone(zone)).toBe(true);
    for (const zone of ['Mars/Olympus', '']) expect(isValidTimeZone(zone)).toBe(false);
  });
});

describe('errors name the wrong token and carry the usage line', () => {
  it.each([
    ['parser', 'missing_argument', 'parser', USAGE.deploy],
    ['Parser v1.4', 'invalid_name', 'Parser', USAGE.deploy],
    ['parser v1.4 --dryrun', 'unknown_flag', '--dryrun', USAGE.deploy],
    ['parser v1.4 --dry-run --dry-run', 'duplicate_option', '--dry-run', USAGE.deploy],
    ['parser v1.4 to', 'missing_argument', undefined, USAGE.deploy],
    ['parser v1.4 to Production', 'invalid_name', 'Production', USAGE.deploy],
    ['parser v1.4 extra', 'unexpected_token', 'extra', USAGE.deploy],
    ['parser v1.4 --rollback-after', 'missing_argument', '--rollback-after', USAGE.deploy],
    ['parser v1.4 --rollback-after 30 minutes', 'invalid_duration', '30', USAGE.deploy],
    ['rollback', 'missing_argument', undefined, USAGE.rollback],
    ['rollback parser v1 v2', 'unexpected_token', 'v2', USAGE.rollback],
    ['rollback parser --dry-run', 'unknown_flag', '--dry-run', USAGE.rollback],
    ['status parser extra', 'unexpected_token', 'extra', USAGE.status],
    ['schedules now', 'unexpected_token', 'now', USAGE.schedules],
    ['history', 'missing_argument', undefined, USAGE.history],
    ['help me', 'unexpected_token', 'me', USAGE.help],
    ['lock parser "never closed', 'unterminated_quote', undefined, undefined],
    ['--dry-run', 'missing_argument', '--dry-run', undefined],
    ['9lives v1', 'unexpected_token', '9lives', undefined],
    ['rollback parser to in', 'missing_argument', 'in', USAGE.rollback],
    ['status to', 'unexpected_token', 'to', USAGE.status],
    ['parser ""', 'invalid_version', '', USAGE.deploy],
  ])('%s → %s', (text, code, token, usage) => {
    const detail = error(text);
    expect(detail.code).toBe(code);
    if (token !== undefined) {
      expect(detail.token).toBe(token);
      expect(detail.message).toContain(`'${token}'`);
    }
    expect(detail.usage).toBe(usage ?? detail.usage);
    expect(detail.usage).toContain('/deploy');
  });

  it('suggests the verb that was probably meant', () => {
    expect(error('rolback').message).toContain("Did you mean 'rollback'?");
    expect(error('parser v1 --rollbak-after 5m').message).toContain(
      "Did you mean '--rollback-after'?",
    );
  });

  it('says how to write a lowercase name', () => {
    expect(error('Parser v1').message).toContain("'parser'");
  });

  it('refuses a reason longer than a Slack line should carry', () => {
    expect(error(`lock parser "${'x'.repeat(501)}"`).code).toBe('invalid_reason');
  });
});

describe('help', () => {
  it('lists every verb, and one verb on request', () => {
    const all = helpText();
    for (const usage of Object.values(USAGE)) expect(all).toContain(usage);
    expect(helpText('lock')).toContain(USAGE.lock);
    expect(helpText('lock')).not.toContain(USAGE.deploy);
  });
});

// --- properties --------------------------------------------------------------------------------

const name = fc
  .stringMatching(/^[a-z][a-z0-9-]{0,39}$/)
  .filter((value) => !RESERVED_SERVICE_NAMES.includes(value));
const version = fc
  .string({ minLength: 1, maxLength: 40, unit: 'grapheme' })
  .filter(
    (value) =>
      !/[\u0000-\u001f\u007f]/.test(value) &&
      value.trim().length === value.length &&
      value.length > 0,
  );
const environment = fc.option(name, { nil: undefined });
const durationMs = fc.integer({ min: 1, max: 30 * 86_400 }).map((seconds) => seconds * 1000);
const runAt = fc.integer({ min: 1, max: 30 * 86_400 - 1 }).map((seconds) => NOW + seconds * 1000);
const reason = fc.string({ minLength: 1, maxLength: 80 }).filter(
  // A reason is rebuilt from its words, so it cannot carry runs of whitespace or control characters.
  (value) =>
    value === value.trim() &&
    !/\s\s|[\u0000-\u001f\u007f\u0085\u2028\u2029]/.test(value) &&
    value.length > 0,
);

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

const hostWord = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}(?::[1-9]\d{0,3})?$/);
const names = <T>(item: fc.Arbitrary<T>) =>
  fc.option(fc.uniqueArray(item, { minLength: 1, maxLength: 4 }), { nil: undefined });
const filter = fc
  .record({ hosts: names(hostWord), groups: names(name) })
  .map((f) => ({ ...optional('hosts', f.hosts), ...optional('groups', f.groups) }));

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  fc
    .record({
      service: name,
      version,
      environment,
      dryRun: fc.boolean(),
      rollbackAfterMs: fc.option(durationMs, { nil: undefined }),
      filter,
    })
    .map((c): Command => ({
      verb: 'deploy',
      service: c.service,
      version: c.version,
      dryRun: c.dryRun,
      ...optional('environment', c.environment),
      ...optional('rollbackAfterMs', c.rollbackAfterMs),
      ...c.filter,
    })),
  fc
    .record({ service: name, version: fc.option(version, { nil: undefined }), environment, filter })
    .map((c): Command => ({
      verb: 'rollback',
      service: c.service,
      ...optional('version', c.version),
      ...optional('environment', c.environment),
      ...c.filter,
    })),
  fc.record({ service: name, environment, filter }).map((c): Command => ({
    verb: 'restart',
    service: c.service,
    ...optional('environment', c.environment),
    ...c.filter,
  })),
  fc
    .record({
      service: name,
      version: fc.option(version, { nil: undefined }),
      environment,
      schedule: fc.option(
        fc.oneof(
          durationMs.map((delayMs) => ({ kind: 'in' as const, delayMs })),
          runAt.map((at) => ({ kind: 'at' as const, runAt: at })),
        ),
        { nil: undefined },
      ),
    })
    .map((c): Command => ({
      verb: 'rollback',
      service: c.service,
      ...optional('version', c.version),
      ...optional('environment', c.environment),
      ...optional('schedule', c.schedule),
    })),
  fc
    .record({ service: name, environment, reason: fc.option(reason, { nil: undefined }) })
    .map((c): Command => ({
      verb: 'lock',
      service: c.service,
      ...optional('environment', c.environment),
      ...optional('reason', c.reason),
    })),
  fc
    .record({
      verb: fc.constantFrom(
        'restart' as const,
        'history' as const,
        'cancel' as const,
        'unlock' as const,
      ),
      service: name,
      environment,
    })
    .map((c): Command => ({
      verb: c.verb,
      service: c.service,
      ...optional('environment', c.environment),
    })),
  fc
    .option(name, { nil: undefined })
    .map((service): Command => ({ verb: 'status', ...optional('service', service) })),
  fc.constant<Command>({ verb: 'schedules' }),
  fc
    .option(fc.constantFrom('deploy' as const, 'rollback' as const, 'lock' as const), {
      nil: undefined,
    })
    .map((topic): Command => ({ verb: 'help', ...optional('topic', topic) })),
);

describe('--hosts and --groups', () => {
  it.each<[string, Command]>([
    [
      'parser v1.4 to production --hosts parser-03',
      {
        verb: 'deploy',
        service: 'parser',
        version: 'v1.4',
        environment: 'production',
        dryRun: false,
        hosts: ['parser-03'],
      },
    ],
    [
      'parser v1.4 --groups=canary,a --dry-run --hosts 10.0.0.5:2222,[::1]:22',
      {
        verb: 'deploy',
        service: 'parser',
        version: 'v1.4',
        dryRun: true,
        groups: ['canary', 'a'],
        hosts: ['10.0.0.5:2222', '[::1]:22'],
      },
    ],
    [
      'restart parser to staging --groups b',
      { verb: 'restart', service: 'parser', environment: 'staging', groups: ['b'] },
    ],
    [
      'rollback parser v1.3 to production --hosts parser-01,parser-01,parser-02',
      {
        verb: 'rollback',
        service: 'parser',
        version: 'v1.3',
        environment: 'production',
        hosts: ['parser-01', 'parser-02'],
      },
    ],
  ])('%s', (text, expected) => {
    expect(ok(text)).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    ['parser v1 --hosts', 'missing_argument', /'--hosts' needs a comma-separated list/],
    ['parser v1 --hosts a,,b', 'invalid_filter', /empty host name/],
    ['parser v1 --hosts a, b', 'invalid_filter', /empty host name/],
    ['parser v1 --groups Canary', 'invalid_filter', /'Canary' is not a group name/],
    ['parser v1 --hosts "a;rm -rf"', 'invalid_filter', /not a host name/],
    ['parser v1 --hosts a --hosts b', 'duplicate_option', /given twice/],
    ['restart parser --host a', 'unknown_flag', /Did you mean '--hosts'\?/],
    ['rollback parser --grups a', 'unknown_flag', /Did you mean '--groups'\?/],
    ['parser v1 --gruops a', 'unknown_flag', /Did you mean '--groups'\?/],
    ['rollback parser in 30m --hosts a', 'invalid_filter', /scheduled rollback covers the whole/],
    ['history parser --hosts a', 'unknown_flag', /not an option of history/],
  ])('%s is refused', (text, code, message) => {
    const failure = error(text);
    expect(failure.code).toBe(code);
    expect(failure.message).toMatch(message);
  });

  it('help names the flags where they apply', () => {
    expect(helpText('deploy')).toMatch(/--hosts <h1,h2>.*--groups <g1,g2>/);
    expect(helpText('restart')).toMatch(/--hosts \/ --groups: only these hosts or groups/);
    expect(helpText()).toContain('--hosts / --groups');
    expect(helpText('history')).not.toContain('--hosts');
  });
});

describe('properties', () => {
  it('never throws, whatever the input', () => {
    const words = fc.constantFrom(
      'rollback',
      'lock',
      'to',
      'at',
      'in',
      '--dry-run',
      '--rollback-after',
      '"',
      '\u201c',
      '17:00',
      '30m',
      'parser',
      'v1',
    );
    const text = fc.oneof(
      fc.string(),
      fc.array(fc.oneof(words, fc.string()), { maxLength: 8 }).map((parts) => parts.join(' ')),
    );
    fc.assert(
      fc.property(text, (input) => {
        const result = parse(input);
        if (!result.ok) expect(result.error.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('formatting a command and parsing it back gives the same command', () => {
    fc.assert(
      fc.property(commandArbitrary, (command) => {
        expect(parse(formatCommand(command))).toEqual({ ok: true, command });
      }),
      { numRuns: 2000 },
    );
  });

  it('whatever parses, formats to text that parses to the same command', () => {
    const words = fc.constantFrom(
      'rollback',
      'lock',
      'to',
      'staging',
      'in',
      '--dry-run',
      '17:00',
      '30m',
      'parser',
      'v1',
      '"a b"',
    );
    fc.assert(
      fc.property(
        fc.array(words, { maxLength: 7 }).map((parts) => parts.join(' ')),
        (input) => {
          const first = parse(input);
          if (first.ok) expect(parse(formatCommand(first.command))).toEqual(first);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
