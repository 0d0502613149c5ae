import { textMessage } from '../../core/report/chat-messages.js';
import { MIN_INTERVAL_MS } from '../../core/report/update-pacer.js';
import { ChatRefusedError, RateLimitedError, type Chat, type MessageRef } from '../chat-ports.js';
import type { DeliveryState, OutboxRecord, OutboxStore } from './ports.js';
import { render, type RenderDeps, type Rendered } from './render.js';

/** Host-level progress alone refreshes a live message at most this often. */
export const MINOR_REFRESH_MS = 10_000;
/** A message whose state never appeared (its use case failed right after adding it) is dropped. */
const NOTHING_TO_SHOW_MS = 10 * 60_000;
/** Backoff after failures that may pass (5xx, timeouts): doubling, with jitter, up to this. */
const MAX_BACKOFF_MS = 60_000;
/** How often to try a channel baton is not in (someone may invite it). */
const WAITABLE_RETRY_MS = 30_000;
/** After this long undelivered a message is given up on (a response URL lives 30 minutes). */
const GIVE_UP_MS: Record<OutboxRecord['to']['kind'], number> = {
  reply: 30 * 60_000,
  channel: 24 * 3600_000,
};

export interface DelivererDeps extends RenderDeps {
  outbox: OutboxStore;
  chat: Chat;
  /** This process, for the delivery duty of each message. */
  owner: string;
  leaseMs: number;
  warn(message: string): void;
  /** 0..1, for backoff jitter; injected so tests are repeatable. */
  random(): number;
}

/** Delay before the next attempt after `attempts` failures in a row. */
export function backoffMs(attempts: number, random: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempts, 10));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/**
 * Delivers one message: renders it from its state, sends it if what it shows changed (paced:
 * milestones within a second, host-level progress every ten), and records what was sent, or
 * when to try again. A failure here never reaches the use cases: it only delays the message.
 */
export async function deliverOne(deps: DelivererDeps, listed: OutboxRecord): Promise<void> {
  if ((await due(deps, listed)) === undefined) return;
  if (!(await deps.outbox.claim(listed.key, deps.owner, deps.leaseMs))) return;
  // Read again under the claim: another process may have delivered it since it was listed.
  const record = await deps.outbox.get(listed.key);
  const rendered = record === undefined ? undefined : await due(deps, record);
  if (record !== undefined && rendered !== undefined) await attempt(deps, record, rendered);
}

/**
 * What a message should show now, when that is something to send now; settles a message that
 * will never have anything more to send.
 */
async function due(deps: DelivererDeps, record: OutboxRecord): Promise<Rendered | undefined> {
  const now = deps.clock.now();
  if (record.settled || record.notBefore > now) return undefined;
  const rendered = await render(deps, record.view);
  if (rendered === undefined) {
    if (now - record.createdAt > NOTHING_TO_SHOW_MS)
      await deps.outbox.record(
        record.key,
        { ...deliveryOf(record), settled: true, error: 'nothing to show' },
        record.view,
      );
    return undefined;
  }
  if (record.sent?.digest === rendered.revision) {
    if (rendered.final)
      await deps.outbox.record(record.key, { ...deliveryOf(record), settled: true }, record.view);
    return undefined;
  }
  if (record.sent === undefined) return rendered;
  const gap = now - record.sent.at;
  if (gap < MIN_INTERVAL_MS) return undefined;
  const send =
    rendered.final || rendered.milestone !== record.sent.milestone || gap >= MINOR_REFRESH_MS;
  return send ? rendered : undefined;
}

function deliveryOf(record: OutboxRecord): DeliveryState {
  return {
    ...(record.ref === undefined ? {} : { ref: record.ref }),
    ...(record.sent === undefined ? {} : { sent: record.sent }),
    notBefore: record.notBefore,
    attempts: record.attempts,
    settled: record.settled,
    ...(record.toldRequester === undefined ? {} : { toldRequester: record.toldRequester }),
    ...(record.error === undefined ? {} : { error: record.error }),
  };
}

async function attempt(
  deps: DelivererDeps,
  record: OutboxRecord,
  rendered: Rendered,
): Promise<void> {
  const delivery = deliveryOf(record);
  let threadTs: string | undefined;
  if (record.to.kind === 'channel' && record.to.thread !== undefined) {
    threadTs = (await deps.outbox.get(record.to.thread))?.ref?.ts;
    if (threadTs === undefined) return; // its parent is not posted yet
  }
  try {
    const ref = await send(deps, record, rendered, threadTs);
    await deps.outbox.record(
      record.key,
      {
        ...delivery,
        ...(ref === undefined ? {} : { ref }),
        sent: { digest: rendered.revision, milestone: rendered.milestone, at: deps.clock.now() },
        notBefore: 0,
        attempts: 0,
        settled: rendered.final,
      },
      record.view,
    );
  } catch (error) {
    await deps.outbox.record(record.key, await failed(deps, record, delivery, error), record.view);
  }
}

async function send(
  deps: DelivererDeps,
  record: OutboxRecord,
  rendered: Rendered,
  threadTs: string | undefined,
): Promise<MessageRef | undefined> {
  const { to } = record;
  if (to.kind === 'reply') {
    await deps.chat.respond(to.responseUrl, rendered.message, { visible: to.visible });
    return undefined;
  }
  if (record.ref !== undefined) {
    await deps.chat.update(record.ref, rendered.message);
    return record.ref;
  }
  return deps.chat.post(to.channel, rendered.message, threadTs);
}

/** What a failed attempt leaves: when to try again, or that the message is given up on. */
async function failed(
  deps: DelivererDeps,
  record: OutboxRecord,
  delivery: DeliveryState,
  error: unknown,
): Promise<DeliveryState> {
  const now = deps.clock.now();
  const why = (error as Error).message;
  const attempts = record.attempts + 1;
  const old = now - record.createdAt > GIVE_UP_MS[record.to.kind];
  if (error instanceof RateLimitedError)
    return {
      ...delivery,
      attempts,
      error: why,
      notBefore: now + Math.max(1, error.retryAfterSeconds) * 1000,
      settled: old,
    };
  if (error instanceof ChatRefusedError && !error.waitable) {
    deps.warn(`message ${record.key} given up: ${why}`);
    return { ...delivery, attempts, error: why, settled: true };
  }
  if (error instanceof ChatRefusedError) {
    const told = delivery.toldRequester === true || (await tellRequester(deps, record, why));
    if (old) deps.warn(`message ${record.key} given up after a day: ${why}`);
    return {
      ...delivery,
      attempts,
      error: why,
      notBefore: now + WAITABLE_RETRY_MS,
      settled: old,
      toldRequester: told,
    };
  }
  if (old) deps.warn(`message ${record.key} given up after ${attempts} attempts: ${why}`);
  return {
    ...delivery,
    attempts,
    error: why,
    notBefore: now + backoffMs(attempts, deps.random()),
    settled: old,
  };
}

/** The channel cannot be posted in (baton is not in it): the requester hears it privately, once. */
async function tellRequester(
  deps: DelivererDeps,
  record: OutboxRecord,
  why: string,
): Promise<boolean> {
  if (record.to.kind !== 'channel' || record.to.replyUrl === undefined) return true;
  try {
    await deps.chat.respond(
      record.to.replyUrl,
      textMessage(
        `${why}. What you asked for is under way; its message appears here once baton is in the channel. Meanwhile \`/deploy status\` says where it is.`,
      ),
      { visible: 'me' },
    );
    return true;
  } catch {
    return false;
  }
}
