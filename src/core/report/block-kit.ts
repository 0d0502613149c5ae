/** The few Block Kit shapes baton sends, and Slack's published limits for them. */

export const LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  contextElements: 10,
  actionsElements: 25,
  /** A confirmation dialog's text; longer is refused with invalid_blocks. */
  confirmText: 300,
  /** msg_blocks_too_long has been seen near 13k characters, well under the documented 40k. */
  messageCharacters: 12_000,
} as const;

export interface Text {
  type: 'mrkdwn' | 'plain_text';
  text: string;
  /** mrkdwn only: true stops Slack turning URLs, #channels and @names in it into links. */
  verbatim?: boolean;
}

export interface Button {
  type: 'button';
  action_id: string;
  text: Text;
  value: string;
  style?: 'primary' | 'danger';
  confirm?: { title: Text; text: Text; confirm: Text; deny: Text };
}

export type Block =
  | { type: 'section'; text: Text }
  | { type: 'context'; elements: Text[] }
  | { type: 'actions'; elements: Button[] }
  | { type: 'divider' };

export interface SlackMessage {
  /** Shown in notifications and where blocks cannot be; always set. */
  text: string;
  blocks: Block[];
}

/** Cuts text to `max` characters, saying so, so Slack never rejects a message for its length. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * mrkdwn that Slack shows as written: baton's own markup (bold, code, `<@U…>`, dates) works, and
 * nothing in a user's text becomes a link or a mention by itself (user text is also `escape`d).
 */
export function mrkdwn(text: string, max: number = LIMITS.sectionText): Text {
  return { type: 'mrkdwn', text: clip(text, max), verbatim: true };
}

export function plain(text: string): Text {
  return { type: 'plain_text', text: clip(text, 75) };
}

/** Escapes what Slack's mrkdwn treats as markup in text that comes from users or hosts. */
export function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
