import { describe, expect, it } from 'vitest';
import {
  redactUrl,
  registerSecrets,
  scrub,
  scrubDeep,
  urlSecrets,
} from '../../src/adapters/log/redact.js';
import { configuredSecrets, redactedIo } from '../../src/cli/redacted-io.js';
import { loadConfig, type Config } from '../../src/config/env.js';

function config(env: Record<string, string>): Config {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  return loaded.config;
}

describe('redactUrl', () => {
  it.each([
    ['redis://:p@ss@host:6379/0', 'redis://***@host:6379/0'],
    ['redis://user:hunter2@host:6379', 'redis://***@host:6379'],
    ['rediss://default:a%40b@10.0.0.1:6380', 'rediss://***@10.0.0.1:6380'],
    ['redis://host:6379?password=sekret&db=1', 'redis://host:6379?password=***&db=1'],
    ['redis://u:p@ss@host?PASSWORD=x', 'redis://***@host?PASSWORD=***'],
    ['redis://127.0.0.1:6392', 'redis://127.0.0.1:6392'],
    ['redis://[::1]:6379', 'redis://[::1]:6379'],
  ])('shows %s as %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('shows nothing of a URL it cannot read', () => {
    expect(redactUrl('redis://:pa/ss@host')).toBe(
      'redis://[a URL that could not be read, not shown]',
    );
  });
});

describe('scrub', () => {
  it('takes a password with an unencoded @ out of a URL in text, and password parameters', () => {
    expect(scrub('cannot reach redis://:p@ss@host:6379 now')).toBe(
      'cannot reach redis://[redacted]@host:6379 now',
    );
    expect(scrub('dialling redis://host?db=1&password=sekret&x=1')).toBe(
      'dialling redis://host?db=1&password=[redacted]&x=1',
    );
    expect(scrub('{"url":"redis://u:pw@h","mail":"a@b.example"}')).toBe(
      '{"url":"redis://[redacted]@h","mail":"a@b.example"}',
    );
  });

  it('takes out every registered value, wherever it is, in plain data too', () => {
    registerSecrets(['registered-secret-1', undefined, 'short']);
    expect(scrub('args: [ "AUTH", "registered-secret-1" ]')).toBe('args: [ "AUTH", "[redacted]" ]');
    expect(scrub('a short word')).toBe('a short word');
    expect(
      scrubDeep({
        text: 'x registered-secret-1',
        blocks: [{ text: { text: 'registered-secret-1' } }],
      }),
    ).toEqual({ text: 'x [redacted]', blocks: [{ text: { text: '[redacted]' } }] });
  });
});

describe('the secrets of a configuration', () => {
  it('are the Slack tokens, the signing secret and the Redis credentials, as written and decoded', () => {
    expect(
      configuredSecrets(
        config({
          SLACK_BOT_TOKEN: 'xoxb-1-2-token',
          SLACK_APP_TOKEN: 'xapp-1-app-token',
          SLACK_SIGNING_SECRET: 'signing-secret-value',
          REDIS_URL: 'redis://ops:p%40ssword1@redis.internal:6379?password=param-secret',
        }),
      ),
    ).toEqual([
      'xoxb-1-2-token',
      'xapp-1-app-token',
      'signing-secret-value',
      'ops',
      'p%40ssword1',
      'p@ssword1',
      'param-secret',
    ]);
    expect(urlSecrets('redis://default:hunter22@h')).toEqual(['hunter22']);
  });

  it('never reach the terminal once registered', () => {
    const secrets = configuredSecrets(config({ SLACK_SIGNING_SECRET: 'terminal-signing-secret' }));
    registerSecrets(secrets);
    let written = '';
    const io = redactedIo({
      stdout: (text) => (written += text),
      stderr: (text) => (written += text),
      env: {},
      now: () => 0,
    });
    io.stderr('baton: Slack said terminal-signing-secret is wrong\n');
    expect(written).toBe('baton: Slack said [redacted] is wrong\n');
  });

  it('a REDIS_URL that cannot be read is refused without being shown', () => {
    const loaded = loadConfig({ REDIS_URL: 'redis://:pa/ss@host' });
    expect(loaded).toEqual({
      ok: false,
      problems: [
        'REDIS_URL: is not a URL that can be read: percent-encode / ? # and spaces in the user name and password (%2F for /)',
      ],
    });
  });
});
