import { describe, expect, it } from 'vitest';
import { createLogger, scrub } from '../../src/adapters/log/logger.js';

function capture(options: { secrets?: string[]; redact?: string[]; pretty?: boolean } = {}) {
  const lines: string[] = [];
  const log = createLogger({
    level: 'info',
    pretty: options.pretty ?? false,
    write: (line) => lines.push(line),
    secrets: options.secrets ?? [],
    redact: options.redact ?? [],
    base: { process: 'test:1' },
  });
  return { log, lines };
}

describe('scrub', () => {
  it('takes out Slack tokens, URL passwords and private keys, and the given secret values', () => {
    expect(scrub('auth failed for xoxb-123-456-abcdef')).toBe('auth failed for xox?-[redacted]');
    expect(scrub('socket xapp-1-A1-22-ffff closed')).toBe('socket xapp-[redacted] closed');
    expect(scrub('redis://default:hunter2@10.0.0.1:6379 down')).toBe(
      'redis://[redacted]@10.0.0.1:6379 down',
    );
    expect(
      scrub('key -----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY----- x'),
    ).toBe('key [redacted key] x');
    expect(scrub('signed with s3cr3t-signing', ['s3cr3t-signing'])).toBe('signed with [redacted]');
  });
});

describe('createLogger', () => {
  it('writes one JSON object a line, with the level by name and the process', () => {
    const { log, lines } = capture();
    log.info('taking rollouts');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'info',
      process: 'test:1',
      msg: 'taking rollouts',
    });
  });

  it('never writes secrets: by field, by configured path, or inside text', () => {
    const { log, lines } = capture({ secrets: ['sig-secret-value'], redact: ['detail.apiKey'] });
    log.warn(
      {
        token: 'xoxb-1-2-3',
        config: { SLACK_SIGNING_SECRET: 'sig-secret-value' },
        detail: { apiKey: 'k-123', note: 'uses sig-secret-value' },
      },
      'slack said no to xoxb-9-9-zz',
    );
    const line = lines.join('');
    for (const secret of ['xoxb-1-2-3', 'sig-secret-value', 'k-123', 'xoxb-9-9-zz'])
      expect(line).not.toContain(secret);
    expect(JSON.parse(line)).toMatchObject({
      token: '[redacted]',
      detail: { apiKey: '[redacted]' },
    });
  });

  it('never writes secrets inside errors, which pino serializes itself', () => {
    const { log, lines } = capture({ secrets: ['redis-password-1'] });
    // The shape of ioredis's error for a refused AUTH: the password among the command's arguments.
    const refused = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      command: { name: 'hello', args: ['3', 'AUTH', 'default', 'redis-password-1'] },
    });
    log.error(refused);
    log.warn({ err: new Error('cannot reach redis://:p@ss@host:6379') }, 'Redis is down');
    const text = lines.join('');
    expect(text).toContain('WRONGPASS');
    expect(text).not.toContain('redis-password-1');
    expect(text).not.toContain('p@ss');
  });

  it('writes readable lines when asked to be pretty', () => {
    const { log, lines } = capture({ pretty: true });
    log.info('taking rollouts');
    expect(lines[0]).toContain('taking rollouts');
    expect(() => JSON.parse(lines[0] ?? '')).toThrow();
  });
});
