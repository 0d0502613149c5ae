import { escape, type SlackMessage } from '../../core/report/block-kit.js';
import { textMessage } from '../../core/report/chat-messages.js';
import type { Refusal } from '../use-cases/outcome.js';
import { DELIVERY_TTL_MS, type ChatFrontDeps, type Interaction } from './deps.js';

export type Visibility = 'me' | 'channel';

/** Answers the person who typed or clicked: through the outbox, so a chat failure only delays it. */
export async function reply(
  deps: ChatFrontDeps,
  from: Interaction,
  message: SlackMessage,
  visible: Visibility = 'me',
): Promise<void> {
  await deps.outbox.add({
    key: `reply:${from.deliveryId}`,
    to: { kind: 'reply', responseUrl: from.responseUrl, visible },
    view: { kind: 'fixed', message },
    createdAt: deps.clock.now(),
  });
  deps.kick();
}

export const refusalMessage = (refused: Refusal): SlackMessage =>
  textMessage(refused.message, refused.hint);

/**
 * Runs what a command or click asks, once per delivery however often Slack sends it, and answers
 * with what went wrong on baton's side rather than with silence.
 */
export async function once(
  deps: ChatFrontDeps,
  kind: 'command' | 'action',
  from: Interaction,
  what: string,
  work: () => Promise<void>,
): Promise<void> {
  if (!(await deps.requests.firstDelivery(`${kind}:${from.deliveryId}`, DELIVERY_TTL_MS))) return;
  try {
    await work();
  } catch (error) {
    deps.warn(`${what}: ${(error as Error).message}`);
    await reply(
      deps,
      from,
      textMessage(
        `Something went wrong on baton's side: ${escape((error as Error).message)}. Look at \`/deploy status\` before trying again; baton's log has the details.`,
      ),
    );
  }
  deps.kick();
}
