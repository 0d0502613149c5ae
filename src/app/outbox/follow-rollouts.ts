import { escape } from '../../core/report/block-kit.js';
import { textMessage } from '../../core/report/chat-messages.js';
import type { RolloutState } from '../../core/rollout/index.js';
import { ReplayedState } from '../replayed-state.js';
import type { RolloutStore, StoredUpdate } from '../store-ports.js';
import type { OutboxRecord, OutboxStore } from './ports.js';

/** Output tails shown in a failure's thread reply. */
const TAIL_CHARS = 1500;

interface Followed {
  cursor: string;
  /** The rollout's state as its events leave it, for drawing its message without loading it. */
  state: ReplayedState;
  /** The last few failures of each group, with their output, for the thread reply. */
  failures: Map<string, string[]>;
}

/**
 * Reads what workers write about the rollouts whose messages are live, and turns the facts a
 * message cannot render from the checkpoint into the outbox: a group's failure, with its step
 * output, as a reply in the thread; how the rollout ended. Every write has a stable key, so two
 * processes following one rollout (or one following it again from the start) add nothing twice.
 */
export class RolloutFollower {
  private readonly followed = new Map<string, Followed>();

  constructor(private readonly deps: { rollouts: RolloutStore; outbox: OutboxStore }) {}

  /** Reads what is new for the live rollout messages among `records`; true when anything was. */
  async tick(records: readonly OutboxRecord[]): Promise<boolean> {
    let news = false;
    const live = new Set<string>();
    for (const record of records) {
      const { view } = record;
      if (record.settled || view.kind !== 'rollout' || view.end !== undefined) continue;
      live.add(view.rollout);
      const followed = this.followed.get(view.rollout) ?? {
        cursor: '0',
        state: new ReplayedState(() => this.deps.rollouts.load(view.rollout)),
        failures: new Map(),
      };
      this.followed.set(view.rollout, followed);
      for (const { cursor, update } of await this.deps.rollouts.read(
        view.rollout,
        followed.cursor,
        0,
      )) {
        followed.cursor = cursor;
        news = true;
        await this.take(record, followed, update);
      }
    }
    for (const rollout of this.followed.keys())
      if (!live.has(rollout)) this.followed.delete(rollout);
    return news;
  }

  /** The state of a followed rollout as far as its updates have been read; else undefined. */
  stateOf(rollout: string): RolloutState | undefined {
    return this.followed.get(rollout)?.state.current;
  }

  private async take(record: OutboxRecord, followed: Followed, update: StoredUpdate) {
    const { view, to } = record;
    if (view.kind !== 'rollout') return;
    await followed.state.after(update);
    if (update.kind === 'event') collectFailure(followed.failures, update);
    if (update.kind === 'finished')
      await this.deps.outbox.change(record.key, { ...view, end: { kind: 'finished' } });
    if (update.kind === 'refused')
      await this.deps.outbox.change(record.key, {
        ...view,
        end: {
          kind: 'refused',
          reason: update.reason,
          ...(update.summary === undefined ? {} : { summary: update.summary }),
          detail: update.detail,
        },
      });
    if (
      update.kind === 'announcement' &&
      update.announcement.type === 'group.failed' &&
      to.kind === 'channel'
    ) {
      const { group, detail } = update.announcement;
      const text = [
        `*Group ${escape(group)} failed:* ${escape(detail)}`,
        ...(followed.failures.get(group) ?? []),
      ].join('\n');
      await this.deps.outbox.add({
        key: `failure:${view.rollout}:${group}:${update.sequence}`,
        to: { kind: 'channel', channel: to.channel, thread: record.key },
        view: { kind: 'fixed', message: textMessage(text.slice(0, 2900)) },
        createdAt: update.at,
      });
    }
  }
}

function collectFailure(failures: Map<string, string[]>, update: StoredUpdate): void {
  if (update.kind !== 'event') return;
  const { event } = update;
  if (
    event.type !== 'step.failed' &&
    event.type !== 'step.timed_out' &&
    event.type !== 'health.timed_out'
  )
    return;
  const host = escape(event.host);
  const what =
    event.type === 'step.failed'
      ? `${host}: step ${event.step + 1} failed (${escape(event.detail)})`
      : event.type === 'step.timed_out'
        ? `${host}: step ${event.step + 1} timed out`
        : `${host}: not healthy in time (${escape(event.detail)})`;
  const output =
    'output' in event && event.output !== undefined ? event.output.slice(-TAIL_CHARS) : '';
  const lines = failures.get(event.group) ?? [];
  lines.push(output === '' ? `• ${what}` : `• ${what}\n\`\`\`${escape(output)}\`\`\``);
  failures.set(event.group, lines.slice(-3));
}
