import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkHealthProbe } from '../../src/adapters/health/network-health-probe.js';
import { registerSecrets } from '../../src/adapters/log/redact.js';
import { WebApiChat } from '../../src/adapters/slack/web-api-chat.js';
import { SshExecutor } from '../../src/adapters/ssh/ssh-executor.js';
import type { RemoteExecutor } from '../../src/app/ports.js';
import { textMessage } from '../../src/core/report/chat-messages.js';
import { FakeSlack, textOf } from '../support/fake-slack.js';
import { freePort } from '../support/ports.js';
import { BatonProcess } from '../support/processes.js';
import { OwnRedis } from '../support/redis-server.js';

const BOT_TOKEN = 'xoxb-1-secret-bot-token';
let redis: OwnRedis;
let slack: FakeSlack;

beforeAll(async () => {
  redis = await OwnRedis.start(await freePort(), { password: 'the-right-password' });
  slack = await FakeSlack.start();
});

afterAll(async () => {
  await BatonProcess.killAll();
  await slack?.stop();
  await redis?.stop();
});

describe('secrets are never shown', () => {
  it('not the Redis password that ioredis puts in its errors, even when baton crashes on them', async () => {
    const password = 'wrong-pass-shown-by-ioredis';
    const status = new BatonProcess(['status'], {
      REDIS_URL: `redis://:${password}@127.0.0.1:${redis.port}`,
    });
    const code = await status.exited();
    expect(code).not.toBe(0);
    expect(status.output).toContain('WRONGPASS');
    expect(status.output).not.toContain(password);
  });

  it('not in chat: tokens, credentials in a failing health URL, or the SSH key path', async () => {
    registerSecrets([BOT_TOKEN]);
    const chat = new WebApiChat({ token: BOT_TOKEN, apiUrl: slack.apiUrl, warn: () => {} });
    const probe = new NetworkHealthProbe({} as RemoteExecutor);
    const health = await probe.check(
      {
        kind: 'http',
        url: 'http://monitor:probe-password-9@127.0.0.1:9/health',
        status: 200,
        requestTimeoutMs: 1000,
      },
      { name: 'h1', address: '127.0.0.1', port: 22, user: 'deploy' },
      new AbortController().signal,
    );
    // fetch refuses the URL and says so, credentials and all.
    expect(health.detail).toContain('probe-password-9');
    const keyPath = '/srv/keys/deploy-key-that-is-missing';
    const ssh = new SshExecutor({ knownHostsPath: '/nonexistent', privateKeyPath: keyPath });
    const connection = await ssh
      .connect({ name: 'h1', address: '127.0.0.1', port: 22, user: 'deploy' })
      .then(
        () => 'connected',
        (error: unknown) => (error as Error).message,
      );
    expect(connection).toContain('BATON_SSH_KEY');
    await chat.post(
      'C1',
      textMessage(`h1 failed: ${health.detail}; ${connection}; token ${BOT_TOKEN}`),
    );
    const posted = slack.inChannel('C1').at(-1);
    const shown = `${posted?.text ?? ''}\n${textOf(posted ?? { text: '', blocks: [] })}`;
    expect(shown).toContain('h1 failed');
    for (const secret of ['probe-password-9', keyPath, BOT_TOKEN])
      expect(shown).not.toContain(secret);
  });
});
