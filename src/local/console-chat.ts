import type { Chat, MessageRef } from '../app/chat-ports.js';
import type { Block, SlackMessage } from '../core/report/block-kit.js';

/** Who is who in the console: the person typing, and the approver the console plays. */
export const CONSOLE_USER = 'ULOCAL';
export const CONSOLE_APPROVER = 'UAPPROVER';

const NAMES: Record<string, string> = { [CONSOLE_USER]: 'you', [CONSOLE_APPROVER]: 'the approver' };

/** Slack mrkdwn as terminal text: mentions and dates resolved, markup and escapes removed. */
export function plainText(mrkdwn: string, bold: (text: string) => string = (text) => text): string {
  return mrkdwn
    .replace(/```/g, '')
    .replace(/<@([A-Z0-9]+)>/g, (_, id: string) => NAMES[id] ?? id)
    .replace(/<!date\^(\d+)\^[^|>]*\|[^>]*>/g, (_, seconds: string) =>
      new Date(Number(seconds) * 1000).toLocaleTimeString(),
    )
    .replace(/\*([^*\n]+)\*/g, (_, text: string) => bold(text))
    .replace(/`([^`\n]+)`/g, '$1')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

function blockLines(block: Block, bold: (text: string) => string): string[] {
  switch (block.type) {
    case 'section':
      return plainText(block.text.text, bold).split('\n');
    case 'context':
      return [plainText(block.elements.map((element) => element.text).join(' · '), bold)];
    case 'actions':
      return [block.elements.map((button) => `[${button.text.text}]`).join(' ')];
    case 'divider':
      return [];
  }
}

export function messageLines(message: SlackMessage, bold?: (text: string) => string): string[] {
  return message.blocks.flatMap((block) => blockLines(block, bold ?? ((text) => text)));
}

/**
 * Slack's part, played in a terminal: a posted message is printed; an update prints the lines that
 * changed, so a rollout reads as a running log; thread replies are indented. Buttons are reported
 * to `onButtons`, which lets the console offer them as words to type.
 */
export class ConsoleChat implements Chat {
  private readonly shown = new Map<string, string[]>();
  private next = 0;
  private readonly started = Math.floor(Date.now() / 1000);

  constructor(
    private readonly print: (text: string) => void,
    private readonly onButtons: (ref: MessageRef, message: SlackMessage) => void,
    private readonly bold: (text: string) => string = (text) => text,
  ) {}

  async post(channel: string, message: SlackMessage, threadTs?: string): Promise<MessageRef> {
    // Slack's kind of ts: unique across restarts too, since messages' places outlive the process.
    const ref = { channel, ts: `${this.started}.${String(++this.next).padStart(6, '0')}` };
    const lines = messageLines(message, this.bold);
    this.shown.set(ref.ts, lines);
    const indent = threadTs === undefined ? '' : '    ';
    this.print(lines.map((line) => `${indent}${line}`).join('\n'));
    this.onButtons(ref, message);
    return ref;
  }

  async update(ref: MessageRef, message: SlackMessage): Promise<void> {
    const before = new Set(this.shown.get(ref.ts) ?? []);
    const lines = messageLines(message, this.bold);
    this.shown.set(ref.ts, lines);
    const changed = lines.filter((line) => !before.has(line));
    if (changed.length > 0) this.print(changed.map((line) => `  ${line}`).join('\n'));
    this.onButtons(ref, message);
  }

  async respond(_responseUrl: string, message: SlackMessage): Promise<void> {
    this.print(messageLines(message, this.bold).join('\n'));
  }
}
