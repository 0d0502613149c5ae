import { randomUUID } from 'node:crypto';
import type { MessageRef } from '../app/chat-ports.js';
import type { ChatFrontDeps } from '../app/chatops/deps.js';
import { handleAction, type ActionId } from '../app/chatops/handle-action.js';
import { handleCommand } from '../app/chatops/handle-command.js';
import type { SlackMessage } from '../core/report/block-kit.js';
import { CONSOLE_APPROVER, CONSOLE_USER } from './console-chat.js';

/** Words that press a button of the newest message offering it. */
const WORDS: Record<string, ActionId[]> = {
  approve: ['approval.approve'],
  reject: ['approval.reject'],
  withdraw: ['approval.withdraw'],
  cancel: ['rollout.cancel', 'schedule.cancel'],
  continue: ['rollout.continue'],
  abort: ['rollout.abort'],
  rollback: ['rollout.rollback'],
  keep: ['schedule.keep'],
};

const BUTTON_WORD: Partial<Record<ActionId, string>> = Object.fromEntries(
  Object.entries(WORDS).flatMap(([word, actions]) => actions.map((action) => [action, word])),
);

/**
 * Reads `/deploy …` lines as Slack would send them, and words for the buttons on screen. The
 * console plays the approver: a request for approval is answered at the prompt.
 */
export class DeployConsole {
  /** Newest message offering each button: action → (message, value). */
  private readonly buttons = new Map<ActionId, { ts: string; value: string }>();
  private question: { approval: string } | undefined;
  /** The words last suggested for each message, so an update suggests them only when they change. */
  private readonly suggested = new Map<string, string>();

  constructor(
    private readonly deps: ChatFrontDeps,
    private readonly print: (text: string) => void,
  ) {}

  /** What ConsoleChat reports: the buttons a message offers now. */
  offer(ref: MessageRef, message: SlackMessage): void {
    for (const [action, at] of this.buttons) if (at.ts === ref.ts) this.buttons.delete(action);
    const offered: string[] = [];
    for (const block of message.blocks) {
      if (block.type !== 'actions') continue;
      for (const button of block.elements) {
        const action = button.action_id as ActionId;
        this.buttons.set(action, { ts: ref.ts, value: button.value });
        const word = BUTTON_WORD[action];
        if (word !== undefined && action !== 'approval.approve' && action !== 'approval.reject')
          offered.push(word);
      }
    }
    const approval = message.blocks
      .flatMap((block) => (block.type === 'actions' ? block.elements : []))
      .find((button) => button.action_id === 'approval.approve');
    if (approval !== undefined) {
      this.question = { approval: approval.value };
      this.print('The console is the approver here. Approve? Type y or n.');
    } else {
      const hint = offered.map((word) => `"${word}"`).join(' or ');
      if (hint !== '' && this.suggested.get(ref.ts) !== hint) this.print(`(type ${hint})`);
      this.suggested.set(ref.ts, hint);
    }
  }

  /** One line typed at the prompt; false when it was a request to leave. */
  async line(text: string): Promise<boolean> {
    const line = text.trim();
    if (line === '') return true;
    if (['quit', 'exit', '/quit', '/exit'].includes(line)) return false;
    const from = (user: string) => ({
      user,
      channel: 'console',
      responseUrl: 'console',
      // Kept as seen for an hour, also across restarts: never reuse one.
      deliveryId: `console-${randomUUID()}`,
    });
    if (this.question !== undefined && /^(y|yes|n|no)$/i.test(line)) {
      const { approval } = this.question;
      this.question = undefined;
      const action = /^y/i.test(line) ? 'approval.approve' : 'approval.reject';
      await handleAction(this.deps, action, approval, from(CONSOLE_APPROVER));
      return true;
    }
    if (/^(y|yes|n|no)$/i.test(line)) {
      this.print('Nothing is waiting for a yes or no.');
      return true;
    }
    const word = WORDS[line.toLowerCase()];
    if (word !== undefined) {
      const action = word.find((candidate) => this.buttons.has(candidate));
      const at = action === undefined ? undefined : this.buttons.get(action);
      if (action === undefined || at === undefined) {
        this.print(`Nothing on screen offers "${line}" now.`);
        return true;
      }
      const user =
        action.startsWith('approval.') && action !== 'approval.withdraw'
          ? CONSOLE_APPROVER
          : CONSOLE_USER;
      await handleAction(this.deps, action, at.value, from(user));
      return true;
    }
    const command = line.replace(/^\/?deploy\b\s*/, '');
    await handleCommand(this.deps, command, from(CONSOLE_USER));
    return true;
  }
}

export const CONSOLE_HELP = [
  'baton in local mode: six demo hosts run on this machine (127.77.0.11–16), in three groups',
  '(canary, a, b) of the service "demo". Type what you would type in Slack, for example:',
  '',
  '  /deploy demo v2                 deploy v2 (you are asked to approve it: the console approves)',
  '  /deploy demo v3-bad             a version that never comes up healthy: watch it roll back',
  '  /deploy rollback demo in 1m     schedule a rollback (type "cancel" to call it off)',
  '  /deploy status                  what runs where',
  '  /deploy help                    every command',
  '',
  'While a rollout runs, type "cancel"; at a gate, "continue" or "abort". "quit" (or Ctrl-D) leaves',
  'and stops the demo hosts. History, locks and scheduled rollbacks are kept for the next start',
  '(in .data/local; delete it to begin again).',
].join('\n');
