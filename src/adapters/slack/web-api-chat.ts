import { ErrorCode, WebClient, type WebAPICallError } from '@slack/web-api';
import {
  ChatRefusedError,
  RateLimitedError,
  type Chat,
  type MessageRef,
  type UserDirectory,
} from '../../app/chat-ports.js';
import type { SlackMessage } from '../../core/report/block-kit.js';
import { scrubDeep } from '../log/redact.js';

/** How long the user-group membership read from Slack is trusted. */
const GROUPS_TTL_MS = 60_000;

/** Slack's errors that say "not now" rather than "not this": the outbox tries them again. */
const PASSING = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

export interface WebApiChatOptions {
  token: string;
  /** The Web API's base URL (SLACK_API_URL), e.g. for a proxy or a test server. */
  apiUrl?: string;
  warn(message: string): void;
}

/** Counts of Web API calls, for the operations endpoints and the benchmark. */
export interface ChatCalls {
  total: number;
  byMethod: Record<string, number>;
  rateLimited: number;
}

/**
 * Slack's Web API behind the Chat and UserDirectory ports. Nothing is retried here: a 429 becomes
 * a RateLimitedError carrying Retry-After, a refusal a ChatRefusedError, anything else is thrown
 * as it is, and the outbox (which keeps what is left to send) decides when to try again.
 */
export class WebApiChat implements Chat, UserDirectory {
  readonly client: WebClient;
  readonly calls: ChatCalls = { total: 0, byMethod: {}, rateLimited: 0 };
  private groups: { at: number; members: Map<string, string[]> } | undefined;
  private groupsWarned = false;

  constructor(private readonly options: WebApiChatOptions) {
    this.client = new WebClient(options.token, {
      ...(options.apiUrl === undefined ? {} : { slackApiUrl: options.apiUrl }),
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: 10_000,
    });
  }

  private count(method: string): void {
    this.calls.total += 1;
    this.calls.byMethod[method] = (this.calls.byMethod[method] ?? 0) + 1;
  }

  private rethrow(error: unknown, channel?: string): never {
    const coded = error as WebAPICallError;
    if (coded.code === ErrorCode.RateLimitedError) {
      this.calls.rateLimited += 1;
      throw new RateLimitedError(coded.retryAfter);
    }
    const refused = (error as { data?: { error?: string } }).data?.error;
    if (coded.code === ErrorCode.PlatformError && refused !== undefined && !PASSING.has(refused)) {
      if (refused === 'not_in_channel')
        throw new ChatRefusedError(
          refused,
          `baton is not in channel ${channel ?? ''}: invite it with /invite @baton`,
          true,
        );
      throw new ChatRefusedError(refused, `Slack refused it: ${refused}`);
    }
    throw error;
  }

  async post(channel: string, shown: SlackMessage, threadTs?: string): Promise<MessageRef> {
    this.count('chat.postMessage');
    // Step output and library errors end up in messages: no secret goes out with them.
    const message = scrubDeep(shown);
    try {
      const result = await this.client.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks,
        ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
      });
      return { channel: result.channel ?? channel, ts: result.ts ?? '' };
    } catch (error) {
      return this.rethrow(error, channel);
    }
  }

  async update(ref: MessageRef, shown: SlackMessage): Promise<void> {
    this.count('chat.update');
    const message = scrubDeep(shown);
    try {
      await this.client.chat.update({ ...ref, text: message.text, blocks: message.blocks });
    } catch (error) {
      this.rethrow(error, ref.channel);
    }
  }

  async respond(
    responseUrl: string,
    message: SlackMessage,
    how: { visible: 'me' | 'channel'; replaceOriginal?: boolean },
  ): Promise<void> {
    this.count('response_url');
    const shown = scrubDeep(message);
    const response = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        response_type: how.visible === 'me' ? 'ephemeral' : 'in_channel',
        replace_original: how.replaceOriginal ?? false,
        text: shown.text,
        blocks: shown.blocks,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 429)
      throw new RateLimitedError(Number(response.headers.get('retry-after') ?? 1) || 1);
    // A response URL that is gone (used up, or older than 30 minutes) stays gone.
    if (response.status === 404 || response.status === 410)
      throw new ChatRefusedError(`http_${response.status}`, 'the reply URL has expired');
    if (!response.ok) throw new Error(`Slack refused the reply: HTTP ${response.status}`);
  }

  async groupsOf(user: string): Promise<string[]> {
    const now = Date.now();
    if (this.groups === undefined || now - this.groups.at > GROUPS_TTL_MS) {
      try {
        this.count('usergroups.list');
        const result = await this.client.usergroups.list({ include_users: true });
        const members = new Map<string, string[]>();
        for (const group of result.usergroups ?? []) {
          if (group.handle === undefined) continue;
          for (const member of group.users ?? [])
            members.set(member, [...(members.get(member) ?? []), `@${group.handle}`]);
        }
        this.groups = { at: now, members };
      } catch (error) {
        // Without usergroups:read, only user ids in the playbooks can match: say so once.
        if (!this.groupsWarned)
          this.options.warn(
            `cannot read user groups (${(error as Error).message}); only user ids in deployers/approvers will match`,
          );
        this.groupsWarned = true;
        return [];
      }
    }
    return this.groups.members.get(user) ?? [];
  }
}
