import { slackAppSettings, type Config, type SlackAppSettings } from '../../src/config/env.js';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

/** One call baton made to the fake Web API (or to a response URL), body decoded. */
export interface SlackCall {
  method: string;
  body: Record<string, unknown>;
  at: number;
  /** 429 when the fake rate-limited it. */
  status: number;
}

export interface PostedMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks: Record<string, unknown>[];
  /** Every version of the message, oldest first (the post, then each update). */
  versions: { text: string; blocks: Record<string, unknown>[] }[];
}

async function bodyOf(request: IncomingMessage): Promise<Record<string, unknown>> {
  let raw = '';
  for await (const chunk of request) raw += String(chunk);
  if ((request.headers['content-type'] ?? '').includes('application/json'))
    return JSON.parse(raw) as Record<string, unknown>;
  const form: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    // The Web API client sends blocks (and other objects) as JSON inside form fields.
    form[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return form;
}

/**
 * A Slack Web API on loopback, reached through SLACK_API_URL: it keeps every message as Slack
 * would (posts, updates, thread replies, ephemeral replies to response URLs) so tests read the
 * real Block Kit payloads, and it can answer 429 to test rate limiting.
 */
export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly messages: PostedMessage[] = [];
  /** Replies sent to response URLs: what the person who typed or clicked sees. */
  readonly responses: { id: string; body: Record<string, unknown> }[] = [];
  /** User groups, handle (without @) → member ids. */
  groups: Record<string, string[]> = {};
  private limited: { method: string; channel?: string; remaining: number; retryAfter: number }[] =
    [];
  private nextTs = 1_700_000_000;
  private server!: Server;
  url = '';
  /** Socket Mode: the app's open WebSocket, once it has connected. */
  private sockets: WebSocketServer | undefined;
  private socket: WebSocket | undefined;
  private readonly acks = new Map<string, (ack: Record<string, unknown>) => void>();
  private envelopes = 0;

  static async start(): Promise<FakeSlack> {
    const slack = new FakeSlack();
    slack.server = createServer((request, response) => {
      void slack.handle(request).then(
        ({ status, body, headers }) => {
          response.writeHead(status, { 'content-type': 'application/json', ...headers });
          response.end(JSON.stringify(body));
        },
        (error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        },
      );
    });
    await new Promise<void>((resolve) => slack.server.listen(0, '127.0.0.1', resolve));
    slack.url = `http://127.0.0.1:${(slack.server.address() as AddressInfo).port}`;
    return slack;
  }

  async stop(): Promise<void> {
    for (const client of this.sockets?.clients ?? []) client.terminate();
    await new Promise((resolve) =>
      this.sockets === undefined ? resolve(undefined) : this.sockets.close(resolve),
    );
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** Whether an app holds a Socket Mode connection now. */
  get socketConnected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Drops the Socket Mode connection, as Slack does when it recycles a server. */
  dropSocket(): void {
    this.socket?.terminate();
  }

  /**
   * Delivers an envelope over Socket Mode (`slash_commands` or `interactive`) and resolves with
   * the app's acknowledgement, and how long it took.
   */
  async deliver(
    type: 'slash_commands' | 'interactive',
    payload: Record<string, unknown>,
  ): Promise<{ ack: Record<string, unknown>; ms: number }> {
    const socket = this.socket;
    if (socket === undefined) throw new Error('no app is connected over Socket Mode');
    const id = `envelope-${++this.envelopes}`;
    const started = performance.now();
    const acked = new Promise<Record<string, unknown>>((resolve) => this.acks.set(id, resolve));
    socket.send(JSON.stringify({ envelope_id: id, type, accepts_response_payload: true, payload }));
    const ack = await acked;
    return { ack, ms: performance.now() - started };
  }

  private openSocket(): string {
    if (this.sockets === undefined) {
      this.sockets = new WebSocketServer({ server: this.server, path: '/socket' });
      this.sockets.on('connection', (socket) => {
        this.socket = socket;
        socket.on('message', (data) => {
          const message = JSON.parse(String(data)) as { envelope_id?: string };
          const resolve = this.acks.get(message.envelope_id ?? '');
          this.acks.delete(message.envelope_id ?? '');
          resolve?.(message);
        });
        socket.send(
          JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A1' } }),
        );
      });
    }
    return `${this.url.replace('http://', 'ws://')}/socket`;
  }

  /** A response URL for one command or click. */
  responseUrl(id: string): string {
    return `${this.url}/respond/${id}`;
  }

  /** The next `times` calls of `method` answer 429 with this Retry-After. */
  rateLimit(method: string, times: number, retryAfterSeconds: number, channel?: string): void {
    this.limited.push({
      method,
      remaining: times,
      retryAfter: retryAfterSeconds,
      ...(channel === undefined ? {} : { channel }),
    });
  }

  count(method: string): number {
    return this.calls.filter((call) => call.method === method).length;
  }

  /** Top-level messages in a channel, oldest first. */
  inChannel(channel: string): PostedMessage[] {
    return this.messages.filter(
      (message) => message.channel === channel && message.threadTs === undefined,
    );
  }

  threadOf(message: PostedMessage): PostedMessage[] {
    return this.messages.filter((reply) => reply.threadTs === message.ts);
  }

  private async handle(request: IncomingMessage) {
    const body = await bodyOf(request);
    const path = request.url ?? '';
    const respond = /^\/respond\/(.+)$/.exec(path);
    if (respond !== null) {
      this.calls.push({ method: 'response_url', body, at: Date.now(), status: 200 });
      this.responses.push({ id: respond[1] ?? '', body });
      return { status: 200, body: { ok: true } };
    }
    const method = path.replace(/^\/api\//, '');
    const call: SlackCall = { method, body, at: Date.now(), status: 200 };
    this.calls.push(call);
    const limit = this.limited.find(
      (item) =>
        item.method === method &&
        item.remaining > 0 &&
        (item.channel === undefined || item.channel === body.channel),
    );
    if (limit !== undefined) {
      limit.remaining -= 1;
      call.status = 429;
      return {
        status: 429,
        body: { ok: false, error: 'ratelimited' },
        headers: { 'retry-after': String(limit.retryAfter) },
      };
    }
    return { status: 200, body: this.answer(method, body) };
  }

  private answer(method: string, body: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'apps.connections.open':
        return { ok: true, url: this.openSocket() };
      case 'auth.test':
        return { ok: true, user_id: 'UBATON', bot_id: 'BBATON', team_id: 'T1', user: 'baton' };
      case 'chat.postMessage': {
        // A channel the bot was never invited to.
        if (String(body.channel).startsWith('CNOTIN'))
          return { ok: false, error: 'not_in_channel' };
        const ts = `${this.nextTs++}.000100`;
        const message: PostedMessage = {
          channel: String(body.channel),
          ts,
          ...(body.thread_ts === undefined ? {} : { threadTs: String(body.thread_ts) }),
          text: String(body.text ?? ''),
          blocks: (body.blocks as Record<string, unknown>[] | undefined) ?? [],
          versions: [],
        };
        message.versions.push({ text: message.text, blocks: message.blocks });
        this.messages.push(message);
        return { ok: true, channel: message.channel, ts };
      }
      case 'chat.update': {
        const message = this.messages.find(
          (item) => item.ts === body.ts && item.channel === body.channel,
        );
        if (message === undefined) return { ok: false, error: 'message_not_found' };
        message.text = String(body.text ?? '');
        message.blocks = (body.blocks as Record<string, unknown>[] | undefined) ?? [];
        message.versions.push({ text: message.text, blocks: message.blocks });
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case 'usergroups.list':
        return {
          ok: true,
          usergroups: Object.entries(this.groups).map(([handle, users]) => ({
            id: `S${handle}`,
            handle,
            users,
          })),
        };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

/** Everything a message says, blocks included, as one string: for asserting on what people read. */
export function textOf(message: { text: string; blocks: Record<string, unknown>[] }): string {
  const parts: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') parts.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value))
        if (key === 'text' || typeof inner === 'object') walk(inner);
    }
  };
  walk(message.blocks);
  return parts.join('\n');
}

/** The action ids of a message's buttons. */
export function buttonsOf(message: { blocks: Record<string, unknown>[] }): string[] {
  return message.blocks
    .filter((block) => block.type === 'actions')
    .flatMap((block) =>
      (block.elements as { action_id: string }[]).map((element) => element.action_id),
    );
}

/** Signs a request body the way Slack does (v0 HMAC-SHA256 over `v0:timestamp:body`). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SlackRequestOptions {
  secret: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  retryNum?: number;
}

/** Sends a form body to the app's request URL, signed like Slack signs it. */
export async function sendSigned(
  url: string,
  form: Record<string, string>,
  options: SlackRequestOptions,
): Promise<{ status: number; body: string; ms: number }> {
  const body = new URLSearchParams(form).toString();
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(options.secret, timestamp, body),
      ...(options.retryNum === undefined
        ? {}
        : {
            'x-slack-retry-num': String(options.retryNum),
            'x-slack-retry-reason': 'http_timeout',
          }),
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text, ms: performance.now() - started };
}

let triggers = 0;

/** A `/deploy` slash command as Slack posts it. */
export function slashCommand(
  slack: FakeSlack,
  text: string,
  user: string,
  channel = 'C1',
): Record<string, string> {
  const trigger = `trigger-${process.pid}-${++triggers}`;
  return {
    token: 'unused',
    team_id: 'T1',
    channel_id: channel,
    channel_name: 'deploys',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/deploy',
    text,
    api_app_id: 'A1',
    response_url: slack.responseUrl(trigger),
    trigger_id: trigger,
  };
}

/** A button click on a posted message, as Slack posts it (a `payload` form field). */
export function buttonClick(
  slack: FakeSlack,
  message: PostedMessage,
  actionId: string,
  user: string,
): Record<string, string> {
  const button = message.blocks
    .filter((block) => block.type === 'actions')
    .flatMap((block) => block.elements as { action_id: string; value: string }[])
    .find((element) => element.action_id === actionId);
  if (button === undefined)
    throw new Error(`no ${actionId} button on the message: ${textOf(message)}`);
  const trigger = `click-${process.pid}-${++triggers}`;
  const payload = {
    type: 'block_actions',
    team: { id: 'T1', domain: 'example' },
    user: { id: user, username: user.toLowerCase(), team_id: 'T1' },
    api_app_id: 'A1',
    token: 'unused',
    container: {
      type: 'message',
      message_ts: message.ts,
      channel_id: message.channel,
      is_ephemeral: false,
    },
    trigger_id: trigger,
    channel: { id: message.channel, name: 'deploys' },
    message: { ts: message.ts, text: message.text, blocks: message.blocks },
    response_url: slack.responseUrl(trigger),
    actions: [
      {
        type: 'button',
        action_id: actionId,
        block_id: 'b',
        value: button.value,
        text: { type: 'plain_text', text: actionId },
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  return { payload: JSON.stringify(payload) };
}

/** The Slack app's settings from a test's configuration, which must have them. */
export function slackSettings(config: Config): SlackAppSettings {
  const settings = slackAppSettings(config);
  if ('problem' in settings) throw new Error(settings.problem);
  return settings;
}
