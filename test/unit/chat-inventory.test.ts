import { describe, expect, it } from 'vitest';
import { handleAction } from '../../src/app/chatops/handle-action.js';
import { handleCommand } from '../../src/app/chatops/handle-command.js';
import type { InventoryRun, InventorySource } from '../../src/app/inventory-ports.js';
import { rolloutMessageKey } from '../../src/app/use-cases/launch.js';
import { approvalMessageKey } from '../../src/app/use-cases/request-rollout.js';
import { ChatWorld, textOf } from '../support/chat-world.js';
import { playbookFrom } from '../support/playbooks.js';

/** An inventory whose answer the test sets, standing in for the command on the worker's machine. */
class ScriptedInventory implements InventorySource {
  answer: InventoryRun = { ok: true, stdout: '' };
  readonly commands: string[] = [];
  async list(command: string): Promise<InventoryRun> {
    this.commands.push(command);
    return this.answer;
  }
}

const playbook = playbookFrom({
  service: 'parser',
  steps: [{ name: 'restart', run: 'restart {{version}}' }],
  health: { http: { url: 'http://{{host}}/health', body_contains: '{{version}}' } },
  environments: {
    production: {
      deployers: ['UALICE'],
      approval: { required: true, approvers: ['UBOB'] },
      groups: [
        { name: 'canary', hosts: ['a'] },
        { name: 'fleet', hosts_from: { command: 'cloud-hosts --tag parser' } },
      ],
    },
  },
});

function world() {
  const chat = new ChatWorld([playbook]);
  const inventory = new ScriptedInventory();
  Object.assign(chat.front, { inventory });
  chat.worker.inventory = inventory;
  return { chat, inventory };
}

describe('hosts_from through chat, with an approval', () => {
  it('the approval shows the listed hosts; what changed by the start is said in the rollout message', async () => {
    const { chat, inventory } = world();
    inventory.answer = { ok: true, stdout: 'b\nc\n' };
    await handleCommand(chat.front, 'parser v2', chat.from('UALICE'));
    await chat.deliver();
    const approval = (await chat.deps.requests.pending())[0];
    expect(textOf(await chat.message(approvalMessageKey(approval?.id ?? '')))).toContain(
      'fleet as its inventory lists it now: b, c',
    );
    // The fleet changes while the request waits: c is replaced by d.
    inventory.answer = { ok: true, stdout: '["b", "d"]' };
    await handleAction(chat.front, 'approval.approve', approval?.id ?? '', chat.from('UBOB'));
    await chat.rolloutsIdle();
    await chat.deliver();
    expect(chat.hosts.log).toEqual(['a: restart v2', 'b: restart v2']);
    const rollout = chat.queue.jobs[0]?.rollout ?? '';
    const text = textOf(await chat.message(rolloutMessageKey(rollout)));
    expect(text).toContain(
      'inventory of fleet changed since the plan: no longer listed (not updated): c; newly listed (not in the approved plan, not deployed to): d',
    );
    expect(text).toContain('*Not updated* (no longer in the inventory): c (fleet)');
    expect(inventory.commands).toEqual(['cloud-hosts --tag parser', 'cloud-hosts --tag parser']);
    const started = chat.history.audit.find((entry) => entry.action === 'rollout.started');
    expect(started?.detail).toMatchObject({
      notUpdated: ['c'],
      inventoryChanges: [{ group: 'fleet', added: ['d'], removed: ['c'] }],
    });
  });

  it('an inventory that fails refuses the request with its output, and asks nobody to approve', async () => {
    const { chat, inventory } = world();
    inventory.answer = { ok: false, reason: 'failed', exitCode: 1, output: 'AccessDenied <b>' };
    const from = chat.from('UALICE');
    await handleCommand(chat.front, 'parser v2', from);
    await chat.deliver();
    expect(textOf(chat.replyTo(from))).toContain(
      'cannot be planned: the inventory of group fleet (hosts_from: cloud-hosts --tag parser) failed (exit 1): AccessDenied &lt;b&gt;',
    );
    expect(await chat.deps.requests.pending()).toEqual([]);
  });

  it('an inventory that fails as the approved rollout starts refuses it: nothing runs', async () => {
    const { chat, inventory } = world();
    inventory.answer = { ok: true, stdout: 'b\n' };
    await handleCommand(chat.front, 'parser v2', chat.from('UALICE'));
    const approval = (await chat.deps.requests.pending())[0];
    inventory.answer = { ok: false, reason: 'timed_out', exitCode: null, output: '' };
    await handleAction(chat.front, 'approval.approve', approval?.id ?? '', chat.from('UBOB'));
    await chat.rolloutsIdle();
    await chat.deliver();
    expect(chat.hosts.log).toEqual([]);
    const rollout = chat.queue.jobs[0]?.rollout ?? '';
    expect(textOf(await chat.message(rolloutMessageKey(rollout)))).toContain(
      'The rollout did not start: the inventory of group fleet (hosts_from: cloud-hosts --tag parser) timed out as the rollout started. Nothing was changed on any host.',
    );
  });

  it('an approved request for --groups canary starts, though it leaves out the inventory group', async () => {
    const { chat, inventory } = world();
    inventory.answer = { ok: true, stdout: 'b\nc\n' };
    await handleCommand(chat.front, 'parser v2 --groups canary', chat.from('UALICE'));
    const approval = (await chat.deps.requests.pending())[0];
    expect(approval?.plan.groups.map((group) => group.name)).toEqual(['canary']);
    await handleAction(chat.front, 'approval.approve', approval?.id ?? '', chat.from('UBOB'));
    await chat.rolloutsIdle();
    await chat.deliver();
    const text = textOf(await chat.message(approvalMessageKey(approval?.id ?? '')));
    expect(text).not.toContain('cannot start');
    expect(chat.hosts.log).toEqual(['a: restart v2']);
  });

  it.each([
    ['--hosts b', ['b: restart v2']],
    ['--hosts a', ['a: restart v2']],
    ['--groups canary,fleet --hosts a', ['a: restart v2']],
  ])('an approved request for %s keeps to what was approved', async (filter, log) => {
    const { chat, inventory } = world();
    inventory.answer = { ok: true, stdout: 'b\nc\n' };
    await handleCommand(chat.front, `parser v2 ${filter}`, chat.from('UALICE'));
    const approval = (await chat.deps.requests.pending())[0];
    await handleAction(chat.front, 'approval.approve', approval?.id ?? '', chat.from('UBOB'));
    await chat.rolloutsIdle();
    expect(chat.hosts.log).toEqual(log);
  });

  it('a rollout whose inventory lists none of the approved hosts any more does not start', async () => {
    const chat = new ChatWorld([
      playbookFrom({
        service: 'parser',
        steps: [{ name: 'restart', run: 'restart {{version}}' }],
        health: { http: { url: 'http://{{host}}/health', body_contains: '{{version}}' } },
        environments: {
          production: {
            deployers: ['UALICE'],
            approval: { required: true, approvers: ['UBOB'] },
            groups: [{ name: 'fleet', hosts_from: { command: 'cloud-hosts' } }],
          },
        },
      }),
    ]);
    const inventory = new ScriptedInventory();
    Object.assign(chat.front, { inventory });
    chat.worker.inventory = inventory;
    inventory.answer = { ok: true, stdout: 'b\n' };
    await handleCommand(chat.front, 'parser v2', chat.from('UALICE'));
    const approval = (await chat.deps.requests.pending())[0];
    // Every approved host was replaced while the request waited.
    inventory.answer = { ok: true, stdout: 'z\n' };
    await handleAction(chat.front, 'approval.approve', approval?.id ?? '', chat.from('UBOB'));
    await chat.rolloutsIdle();
    await chat.deliver();
    expect(chat.hosts.log).toEqual([]);
    const rollout = chat.queue.jobs[0]?.rollout ?? '';
    const text = textOf(await chat.message(rolloutMessageKey(rollout)));
    expect(text).toContain('The rollout did not start');
    expect(text).toContain('no longer listed');
    const finished = chat.history.audit.find((entry) => entry.action === 'rollout.finished');
    expect(finished?.detail).not.toMatchObject({ result: 'succeeded' });
  });
});
