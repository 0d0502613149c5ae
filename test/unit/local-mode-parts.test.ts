import { describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/adapters/local/local-executor.js';
import { ConnectionError } from '../../src/app/ports.js';
import { ConsoleChat, messageLines, plainText } from '../../src/local/console-chat.js';
import { approvalMessage } from '../../src/core/report/chat-messages.js';
import { fleetPlaybook, planFor } from '../support/playbooks.js';

const host = { name: 'demo-1', address: '127.77.0.11', port: 22, user: 'me' };

describe('LocalExecutor', () => {
  it('runs a command here, telling it which demo host it is for', async () => {
    const result = await new LocalExecutor().run(
      host,
      'echo "$BATON_HOST_ADDRESS $BATON_HOST_NAME"; echo oops >&2; exit 3',
      {
        timeoutMs: 5000,
      },
    );
    expect(result).toMatchObject({
      exitCode: 3,
      timedOut: false,
      stdoutTail: '127.77.0.11 demo-1\n',
      stderrTail: 'oops\n',
    });
  });

  it('stops a command past its timeout, with everything it started', async () => {
    const started = Date.now();
    const result = await new LocalExecutor().run(host, 'sleep 30 & sleep 30; echo never', {
      timeoutMs: 300,
    });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(result.stdoutTail).toBe('');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses any host that is not on loopback, so nothing real is touched', async () => {
    const run = new LocalExecutor().run({ ...host, address: '10.0.0.5' }, 'true', {
      timeoutMs: 1000,
    });
    await expect(run).rejects.toBeInstanceOf(ConnectionError);
    await expect(run).rejects.toThrow(/not a loopback address/);
  });
});

describe('the console’s rendering of messages', () => {
  it('turns mentions, dates and markup into plain text', () => {
    expect(
      plainText('*deploy demo* `v1` → `v2` by <@ULOCAL>, approved by <@UAPPROVER> &lt;ok&gt;'),
    ).toBe('deploy demo v1 → v2 by you, approved by the approver <ok>');
    expect(plainText('at <!date^0^{time}|1970-01-01T00:00:00.000Z>')).toMatch(/^at \d/);
  });

  it('prints a message once, and then only the lines an update changes', async () => {
    const printed: string[] = [];
    const chat = new ConsoleChat(
      (text) => printed.push(text),
      () => {},
    );
    const pending = {
      id: 'a1',
      plan: planFor(fleetPlaybook({ groups: [{ hosts: 1 }] })),
      request: {
        requestedBy: 'ULOCAL',
        requestedAt: 0,
        expiresAt: 60_000,
        status: 'pending' as const,
      },
    };
    const ref = await chat.post('console', approvalMessage(pending));
    expect(printed[0]).toContain('[Approve] [Reject] [Withdraw]');
    const decided = approvalMessage({
      ...pending,
      request: { ...pending.request, status: 'approved', decidedBy: 'UAPPROVER', decidedAt: 1000 },
    });
    await chat.update(ref, decided);
    expect(printed[1]).toMatch(/^ {2}✅ Approved by the approver/);
    expect(printed[1]).not.toContain('[Approve]');
    expect(messageLines(decided).length).toBeGreaterThan(0);
  });
});
