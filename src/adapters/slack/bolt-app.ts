import {
  App,
  HTTPReceiver,
  LogLevel,
  SocketModeReceiver,
  type BlockAction,
  type Logger,
  type ButtonAction,
} from '@slack/bolt';
import { ACTION_IDS, type ActionId } from '../../app/chatops/handle-action.js';
import type { Interaction } from '../../app/chatops/deps.js';
import { AfterAcks } from './after-acks.js';
import { verifyingListener } from './request-verification.js';

export interface SlackAppOptions {
  botToken: string;
  signingSecret?: string;
  /** Socket Mode when set: no public URL needed. Otherwise Slack calls the HTTP receiver on `port`. */
  appToken?: string;
  port: number;
  apiUrl?: string;
  /** The clock requests over HTTP are checked against (default: this machine's). */
  now?: () => number;
  /** From auth.test, so Bolt does not ask again at start. */
  botId: string;
  botUserId: string;
  onCommand(text: string, from: Interaction): Promise<void>;
  onAction(action: ActionId, value: string, from: Interaction): Promise<void>;
  warn(message: string): void;
}

const ACTION_PATTERN = new RegExp(
  `^(${ACTION_IDS.map((id) => id.replace('.', '\\.')).join('|')})$`,
);

/**
 * The Bolt app: it acknowledges every command and click at once (Slack waits 3 s at most) and
 * hands the work to the use cases afterwards. Over HTTP each request's signature and time are
 * verified before Bolt sees it (request-verification.ts); in Socket Mode requests come over the
 * socket baton opened with the app-level token, and there is no port to send them to.
 */
export function createSlackApp(options: SlackAppOptions): {
  app: App;
  /** Whether Slack can reach this process now (Socket Mode: the socket is connected). */
  connected(): boolean;
  /** Resolves once the work of every command and click acknowledged so far is done. */
  settle(): Promise<void>;
} {
  // Bolt's and the socket's own complaints go to baton's log (secrets removed there), not stdout.
  let level = LogLevel.WARN;
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (...parts: unknown[]) => options.warn(`slack: ${parts.map(String).join(' ')}`),
    error: (...parts: unknown[]) => options.warn(`slack: ${parts.map(String).join(' ')}`),
    setLevel: (next: LogLevel) => void (level = next),
    getLevel: () => level,
    setName: () => {},
  };
  const common = {
    token: options.botToken,
    botId: options.botId,
    botUserId: options.botUserId,
    logger,
    clientOptions: {
      ...(options.apiUrl === undefined ? {} : { slackApiUrl: options.apiUrl }),
      retryConfig: { retries: 2 },
    },
  };
  let socketUp = false;
  let app: App;
  const afterAcks = new AfterAcks();
  if (options.appToken === undefined) {
    const signingSecret = options.signingSecret;
    if (signingSecret === undefined)
      throw new Error(
        'set SLACK_SIGNING_SECRET: requests from Slack over HTTP are verified with it',
      );
    // Bolt's own check would let a request dated in the future through: ours runs instead.
    const receiver = new HTTPReceiver({
      signingSecret,
      signatureVerification: false,
      port: options.port,
      logger,
    });
    receiver.requestListener = afterAcks.counting(
      verifyingListener({
        signingSecret,
        now: options.now ?? Date.now,
        path: '/slack/events',
        refused: (reason, request) => {
          // An IPv4 client of a dual-stack socket, as people write its address.
          const from = (request.socket.remoteAddress ?? 'an unknown address').replace(
            /^::ffff:/,
            '',
          );
          options.warn(`slack: refused a request from ${from}: ${reason}`);
        },
        next: receiver.requestListener,
      }),
    );
    app = new App({ ...common, receiver });
  } else {
    const receiver = new SocketModeReceiver({
      appToken: options.appToken,
      logger,
      // Where the socket's URL is asked for: SLACK_API_URL, like every other Web API call.
      installerOptions: {
        clientOptions: options.apiUrl === undefined ? {} : { slackApiUrl: options.apiUrl },
      },
    });
    receiver.client.on('connected', () => (socketUp = true));
    for (const down of ['close', 'connecting', 'reconnecting', 'disconnecting', 'disconnected'])
      receiver.client.on(down, () => (socketUp = false));
    app = new App({ ...common, receiver });
  }

  // The work starts once the acks of requests that came in together are sent (after-acks.ts).
  const later = (what: string, work: () => Promise<void>) =>
    afterAcks.run(() =>
      work().catch((error: unknown) => options.warn(`${what}: ${(error as Error).message}`)),
    );

  app.command('/deploy', async ({ ack, command }) => {
    await ack();
    later(`/deploy ${command.text}`, () =>
      options.onCommand(command.text, {
        user: command.user_id,
        channel: command.channel_id,
        responseUrl: command.response_url,
        deliveryId: command.trigger_id,
      }),
    );
  });

  app.action<BlockAction<ButtonAction>>(ACTION_PATTERN, async ({ ack, body, action }) => {
    await ack();
    later(action.action_id, () =>
      options.onAction(action.action_id as ActionId, action.value ?? '', {
        user: body.user.id,
        channel: body.channel?.id ?? body.container.channel_id ?? '',
        responseUrl: body.response_url,
        deliveryId: `${body.trigger_id}:${action.action_ts}`,
      }),
    );
  });

  app.error(async (error) => options.warn(`slack: ${error.message}`));
  // Over HTTP, Slack reaches us while the receiver listens: from start to stop.
  return {
    app,
    connected: () => (options.appToken === undefined ? true : socketUp),
    settle: () => afterAcks.settle(),
  };
}
