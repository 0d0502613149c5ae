import { expireIfDue } from '../../core/policy/index.js';
import { escape } from '../../core/report/block-kit.js';
import { approvalMessage, scheduleMessage, textMessage } from '../../core/report/chat-messages.js';
import { progressMessage } from '../../core/report/progress-message.js';
import {
  changed,
  newPacer,
  rateLimited,
  sendAt,
  sent,
  type Pacer,
} from '../../core/report/update-pacer.js';
import { keepId } from '../process-rollout-job.js';
import type { StoredUpdate } from '../store-ports.js';
import type { ChatOpsDeps } from './deps.js';
import {
  RateLimitedError,
  type MessageRef,
  type PendingRollout,
  type ReportedRollout,
} from './ports.js';

/** A reporting duty lapses this long after its process stops renewing it; another takes it up. */
export const REPORT_LEASE_MS = 15_000;
/** How often to look for new rollouts to report and approvals to expire. */
const SWEEP_MS = 500;
/** How often a followed rollout's updates are read. */
const POLL_MS = 200;
/**
 * Host-level progress alone refreshes the message at most this often; milestones (a group
 * starting, healthy, failing) go out at once, within the pacer's one update a second.
 */
const MINOR_REFRESH_MS = 10_000;
/** Output tails shown in a failure's thread reply. */
const TAIL_CHARS = 1500;

const MILESTONE = new Set(['announcement', 'finished', 'refused']);
/** Attempts to report a rollout that keep failing (a deleted message, a channel gone) before giving up. */
const MAX_ATTEMPTS = 5;

/**
 * Keeps each Slack-started rollout's one message up to date. Any number of `serve` processes run
 * one; each rollout is reported by one of them at a time (a lease in the store), and taken up by
 * another if that process goes away.
 */
export class RolloutReporter {
  private readonly following = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: ChatOpsDeps,
    private readonly owner: string,
    private readonly leaseMs = REPORT_LEASE_MS,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.sweeping = this.sweep()
        .catch((error: unknown) => this.deps.warn(`reporting: ${(error as Error).message}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, SWEEP_MS);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping;
  }

  /** Following now, in this process. */
  get active(): number {
    return this.following.size;
  }

  async sweep(): Promise<void> {
    await this.expireApprovals();
    await this.postNotices();
    for (const entry of await this.deps.store.reports()) {
      if (this.following.has(entry.rollout)) continue;
      if (!(await this.deps.store.claimReport(entry.rollout, this.owner, this.leaseMs))) continue;
      this.following.add(entry.rollout);
      void this.follow(entry)
        .then(() => this.attempts.delete(entry.rollout))
        .catch(async (error: unknown) => {
          const attempts = (this.attempts.get(entry.rollout) ?? 0) + 1;
          this.attempts.set(entry.rollout, attempts);
          const giveUp = attempts >= MAX_ATTEMPTS;
          this.deps.warn(
            `reporting rollout ${entry.rollout}: ${(error as Error).message}${giveUp ? ` (gave up after ${attempts} attempts; the rollout itself goes on)` : ''}`,
          );
          if (giveUp) {
            this.attempts.delete(entry.rollout);
            await this.deps.store.reportDone(entry.rollout);
          }
        })
        .finally(() => this.following.delete(entry.rollout));
    }
  }

  private async expireApprovals(): Promise<void> {
    const now = this.deps.clock.now();
    for (const pending of await this.deps.store.allPending()) {
      if (pending.messageTs === undefined)
        await this.postApproval(pending).catch((error: unknown) =>
          this.deps.warn(`asking for approval ${pending.id}: ${(error as Error).message}`),
        );
      const request = expireIfDue(pending.request, now);
      if (request.status !== 'expired') continue;
      const expired = { ...pending, request };
      if (!(await this.deps.store.decide(pending.id, expired))) continue;
      await this.deps.audit.append({
        at: now,
        actor: 'baton',
        action: 'approval.expired',
        target: { service: pending.plan.service, environment: pending.plan.environment },
        detail: { approval: pending.id, requestedBy: pending.request.requestedBy },
      });
      if (pending.messageTs !== undefined)
        await this.deps.chat.update(
          { channel: pending.channel, ts: pending.messageTs },
          approvalMessage(expired),
        );
    }
  }

  /** What workers had to tell a channel: on the schedule's own message when there is one. */
  private async postNotices(): Promise<void> {
    const { deps } = this;
    for (const notice of await deps.store.takeNotices()) {
      const at =
        notice.schedule === undefined
          ? undefined
          : await deps.store.scheduleMessage(notice.schedule.id);
      const sent =
        at !== undefined && notice.schedule !== undefined
          ? deps.chat.update(at, scheduleMessage(notice.schedule, { skipped: notice.text }))
          : deps.chat.post(notice.channel, textMessage(`⚠️ ${escape(notice.text)}`));
      await Promise.resolve(sent).catch((error: unknown) =>
        deps.warn(`telling ${notice.channel} "${notice.text}": ${(error as Error).message}`),
      );
    }
  }

  /** A request made where there is no Slack (a worker firing a scheduled rollback): post it. */
  private async postApproval(pending: PendingRollout): Promise<void> {
    const { deps } = this;
    if (!(await deps.store.claimReport(`approval:${pending.id}`, this.owner, this.leaseMs))) return;
    const posted = await deps.chat.post(pending.channel, approvalMessage(pending));
    pending.messageTs = posted.ts;
    await deps.store.savePending(pending);
    if (pending.schedule !== undefined) {
      const scheduled = await deps.store.scheduleMessage(pending.schedule.id);
      if (scheduled !== undefined)
        await deps.chat.update(scheduled, scheduleMessage(pending.schedule, 'fired'));
    }
  }

  private async follow(entry: ReportedRollout): Promise<void> {
    const { deps } = this;
    const ref: MessageRef =
      entry.ts === undefined
        ? await this.postFirst(entry)
        : { channel: entry.channel, ts: entry.ts };
    let pacer: Pacer = changed(newPacer());
    let cursor = '0';
    let lastRenewal = deps.clock.now();
    let end: StoredUpdate | undefined;
    let minorSince: number | undefined;
    const failures = new Map<string, string[]>();
    while (!this.stopped) {
      const now = deps.clock.now();
      if (now - lastRenewal > this.leaseMs / 3) {
        if (!(await deps.store.claimReport(entry.rollout, this.owner, this.leaseMs))) return;
        lastRenewal = now;
      }
      for (const { cursor: next, update } of await deps.rollouts.read(entry.rollout, cursor, 0)) {
        cursor = next;
        if (MILESTONE.has(update.kind)) pacer = changed(pacer);
        else minorSince ??= now;
        if (update.kind === 'finished' || update.kind === 'refused') end = update;
        if (update.kind === 'event') collectFailure(failures, update);
        if (update.kind === 'announcement' && update.announcement.type === 'group.failed')
          await this.threadFailure(
            ref,
            update.announcement.group,
            update.announcement.detail,
            failures,
          );
      }
      if (minorSince !== undefined && now - (pacer.lastSentAt ?? 0) >= MINOR_REFRESH_MS) {
        pacer = changed(pacer);
        minorSince = undefined;
      }
      const due = sendAt(pacer);
      if (due !== undefined && due <= now) {
        try {
          await deps.chat.update(ref, await this.render(entry, end));
          pacer = sent(pacer, deps.clock.now());
          minorSince = undefined;
        } catch (error) {
          if (!(error instanceof RateLimitedError)) throw error;
          pacer = rateLimited(pacer, deps.clock.now(), error.retryAfterSeconds);
        }
      }
      if (end !== undefined && !pacer.dirty) break;
      await deps.clock.sleep(POLL_MS);
    }
    if (this.stopped) return;
    if (end?.kind === 'finished' && end.status === 'succeeded') await this.offerKeep(entry, ref);
    await deps.store.reportDone(entry.rollout);
  }

  private async postFirst(entry: ReportedRollout): Promise<MessageRef> {
    const { deps } = this;
    const posted = await deps.chat.post(entry.channel, await this.render(entry, undefined));
    await deps.store.report({ ...entry, ts: posted.ts });
    if (entry.schedule !== undefined) {
      const scheduled = await deps.store.scheduleMessage(entry.schedule.id);
      if (scheduled !== undefined)
        await deps.chat.update(scheduled, scheduleMessage(entry.schedule, 'fired'));
    }
    return posted;
  }

  private async render(entry: ReportedRollout, end: StoredUpdate | undefined) {
    const state = await this.deps.rollouts.load(entry.rollout);
    if (end?.kind === 'refused')
      return textMessage(
        `The rollout did not start: ${end.detail.map(escape).join('; ')}${end.reason === 'cannot_connect' ? '. Nothing was changed on any host.' : ''}`,
      );
    if (state === undefined)
      return textMessage(
        `A rollout is queued; it starts when a worker takes it (\`baton worker\`).`,
      );
    return progressMessage(state, this.deps.clock.now(), entry.requestedBy);
  }

  private async threadFailure(
    ref: MessageRef,
    group: string,
    detail: string,
    failures: Map<string, string[]>,
  ): Promise<void> {
    const tails = failures.get(group) ?? [];
    const text = [`*Group ${escape(group)} failed:* ${escape(detail)}`, ...tails].join('\n');
    await this.deps.chat.post(ref.channel, textMessage(text.slice(0, 2900)), ref.ts);
  }

  /** A dead-man deploy that succeeded: the button that keeps it is posted under its message. */
  private async offerKeep(entry: ReportedRollout, ref: MessageRef): Promise<void> {
    const id = keepId(entry.rollout);
    const keep = (await this.deps.queue.scheduled()).find((item) => item.id === id);
    if (keep === undefined) return;
    const posted = await this.deps.chat.post(ref.channel, scheduleMessage(keep, 'pending'), ref.ts);
    await this.deps.store.rememberScheduleMessage(id, posted);
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
  const what =
    event.type === 'step.failed'
      ? `${event.host}: step ${event.step + 1} failed (${escape(event.detail)})`
      : event.type === 'step.timed_out'
        ? `${event.host}: step ${event.step + 1} timed out`
        : `${event.host}: not healthy in time (${escape(event.detail)})`;
  const output =
    'output' in event && event.output !== undefined ? event.output.slice(-TAIL_CHARS) : '';
  const lines = failures.get(event.group) ?? [];
  lines.push(output === '' ? `• ${what}` : `• ${what}\n\`\`\`${escape(output)}\`\`\``);
  failures.set(event.group, lines.slice(-3));
}
