import {
  RateLimitedError,
  type Chat,
  type MessageRef,
  type UserDirectory,
} from '../../src/app/chat-ports.js';
import type { ChatFrontDeps, Interaction } from '../../src/app/chatops/deps.js';
import { ChatView } from '../../src/app/outbox/chat-view.js';
import type { PlaybookSource, UseCaseDeps } from '../../src/app/use-cases/deps.js';
import type { WorkerDeps } from '../../src/app/worker/deps.js';
import { processRolloutJob } from '../../src/app/worker/process-rollout-job.js';
import type { Playbook } from '../../src/core/playbook/index.js';
import type { SlackMessage } from '../../src/core/report/block-kit.js';
import { InMemoryHosts } from './in-memory-hosts.js';
import { InMemoryOutbox } from './memory/memory-outbox.js';
import { InMemoryQueue } from './memory/memory-queue.js';
import { InMemoryRequestStore } from './memory/memory-request-store.js';
import { InMemoryScheduleStore } from './memory/memory-schedule-store.js';
import {
  InMemoryHistory,
  InMemoryLockStore,
  InMemoryRolloutStore,
} from './memory/memory-stores.js';
import { playbookFrom } from './playbooks.js';
import { VirtualClock } from './virtual-clock.js';
import { RecordingController } from './recording-controller.js';

export type ChatFault = '429' | '500' | 'timeout';

export interface ChatCall {
  method: 'post' | 'update' | 'respond';
  failed?: ChatFault;
}

interface Posted {
  channel: string;
  threadTs?: string;
  versions: SlackMessage[];
}

/**
 * A chat that keeps every message and each of its versions, and fails the calls a test says
 * (a 429 with Retry-After, a 500, a time-out that never reached the chat).
 */
export class RecordingChat implements Chat {
  readonly messages = new Map<string, Posted>();
  readonly replies: { url: string; message: SlackMessage; visible: string }[] = [];
  readonly calls: ChatCall[] = [];
  private next = 0;
  /** Says whether call number `index` (from 0) fails, and how. */
  fault: (index: number, method: ChatCall['method']) => ChatFault | undefined = () => undefined;

  private attempt(method: ChatCall['method']): void {
    const failed = this.fault(this.calls.length, method);
    this.calls.push({ method, ...(failed === undefined ? {} : { failed }) });
    if (failed === '429') throw new RateLimitedError(1 + (this.calls.length % 3));
    if (failed === '500') throw new Error('An HTTP protocol error occurred: statusCode = 500');
    if (failed === 'timeout') throw new Error('A request timed out');
  }

  async post(channel: string, message: SlackMessage, threadTs?: string): Promise<MessageRef> {
    this.attempt('post');
    const ts = `${1000 + ++this.next}.000100`;
    this.messages.set(ts, {
      channel,
      ...(threadTs === undefined ? {} : { threadTs }),
      versions: [structuredClone(message)],
    });
    return { channel, ts };
  }

  async update(ref: MessageRef, message: SlackMessage): Promise<void> {
    this.attempt('update');
    const found = this.messages.get(ref.ts);
    if (found === undefined) throw new Error(`no message ${ref.ts}`);
    found.versions.push(structuredClone(message));
  }

  async respond(url: string, message: SlackMessage, how: { visible: string }): Promise<void> {
    this.attempt('respond');
    this.replies.push({ url, message: structuredClone(message), visible: how.visible });
  }

  latest(ts: string): SlackMessage | undefined {
    return this.messages.get(ts)?.versions.at(-1);
  }
}

/** Every piece of text of a message, blocks and buttons included, for assertions. */
export function textOf(message: SlackMessage | undefined): string {
  if (message === undefined) return '';
  return [
    message.text,
    ...message.blocks.flatMap((block) =>
      block.type === 'section'
        ? [block.text.text]
        : block.type === 'context'
          ? block.elements.map((element) => element.text)
          : block.type === 'actions'
            ? block.elements.map((button) => `[${button.action_id}:${button.value}]`)
            : [],
    ),
  ].join('\n');
}

export function buttonsOf(message: SlackMessage | undefined): string[] {
  return (message?.blocks ?? []).flatMap((block) =>
    block.type === 'actions' ? block.elements.map((button) => button.action_id) : [],
  );
}

/** A service with two one-host groups; production asks for approval by UBOB or @sre. */
export const twoGroups = (options: { gate?: boolean; service?: string } = {}): Playbook =>
  playbookFrom({
    service: options.service ?? 'parser',
    steps: [{ name: 'restart', run: 'restart {{version}}' }],
    health: { http: { url: 'http://{{host}}/health', body_contains: '{{version}}' } },
    default_environment: 'production',
    environments: {
      production: {
        deployers: ['UALICE', 'UBOB', '@deploy'],
        approval: { required: true, approvers: ['UBOB', '@sre'], expires: '30m' },
        groups: [
          { name: 'g1', hosts: ['a'], ...(options.gate === true ? { gate: 'manual' } : {}) },
          { name: 'g2', hosts: ['b'] },
        ],
      },
      staging: {
        deployers: ['UALICE', 'UBOB', 'UCAROL'],
        groups: [
          { name: 'g1', hosts: ['a'], ...(options.gate === true ? { gate: 'manual' } : {}) },
          { name: 'g2', hosts: ['b'] },
        ],
      },
    },
  });

/**
 * The use cases on in-memory stores and a virtual clock, a worker running their jobs on
 * in-memory hosts, and chat delivered to a RecordingChat. Chat is delivered on a clock of its
 * own, so waiting out a 429 never moves the time the rollouts see.
 */
export class ChatWorld {
  readonly clock = new VirtualClock(1_700_000_000_000);
  readonly deliveryClock = new VirtualClock(1_700_000_000_000);
  readonly history = new InMemoryHistory();
  readonly queue = new InMemoryQueue(() => {});
  readonly hosts = new InMemoryHosts(this.clock);
  readonly chat = new RecordingChat();
  readonly schedules = new InMemoryScheduleStore();
  readonly outbox = new InMemoryOutbox(this.deliveryClock);
  readonly warnings: string[] = [];
  readonly deps: UseCaseDeps;
  readonly front: ChatFrontDeps;
  readonly view: ChatView;
  readonly worker: WorkerDeps;
  private ids = 0;
  private clicks = 0;

  constructor(
    playbooks: Playbook[] | PlaybookSource,
    groups: Record<string, string[]> = { UDAVE: ['@sre'] },
  ) {
    const directory: UserDirectory = { groupsOf: async (user) => groups[user] ?? [] };
    const warn = (message: string) => void this.warnings.push(message);
    this.deps = {
      playbooks: Array.isArray(playbooks)
        ? {
            load: async () => ({
              playbooks: new Map(playbooks.map((playbook) => [playbook.service, playbook])),
              problems: 0,
            }),
          }
        : playbooks,
      directory,
      locks: new InMemoryLockStore(this.clock),
      rollouts: new InMemoryRolloutStore(),
      history: this.history,
      audit: this.history,
      requests: new InMemoryRequestStore(this.clock),
      schedules: this.schedules,
      outbox: this.outbox,
      queue: this.queue,
      clock: this.clock,
      timeZone: 'UTC',
      newId: () => `id-${++this.ids}`,
    };
    this.view = new ChatView({ ...this.deps, clock: this.deliveryClock }, this.chat, {
      owner: 'serve-1',
      warn,
      random: () => 0.5,
    });
    this.front = { ...this.deps, kick: () => {}, warn };
    this.worker = {
      worker: 'worker-1',
      executor: this.hosts,
      controller: new RecordingController(),
      health: this.hosts,
      clock: this.clock,
      locks: this.deps.locks,
      rollouts: this.deps.rollouts,
      history: this.history,
      audit: this.history,
      schedules: this.deps.schedules,
      queue: this.queue,
      outbox: this.deps.outbox,
      lockTtlMs: 60_000,
      pollMs: 50,
      active: new Set(),
      warn,
    };
    this.queue.work('worker-1', async (job, attempt) => {
      const outcome = await processRolloutJob(job, this.worker, attempt);
      return outcome.kind === 'suspended' ? 'retry' : 'done';
    });
  }

  /** A command or click from `user` in channel C1. */
  from(user: string, channel = 'C1'): Interaction {
    this.clicks += 1;
    return {
      user,
      channel,
      responseUrl: `http://127.0.0.1:9/reply/${this.clicks}`,
      deliveryId: `delivery-${this.clicks}`,
    };
  }

  /** Lets the rollouts' time pass until `condition` holds. */
  async when(condition: () => Promise<boolean>): Promise<void> {
    for (let turn = 0; turn < 10_000; turn++) {
      if (await condition()) return;
      await this.clock.sleep(50);
    }
    throw new Error('the condition never held');
  }

  /** Waits until the rollouts the worker took have ended (or stopped, waiting at a gate). */
  async rolloutsIdle(): Promise<void> {
    for (let turn = 0; turn < 10_000; turn++) {
      const states = await Promise.all(
        this.queue.jobs.map((job) => this.deps.rollouts.load(job.rollout)),
      );
      const busy = await Promise.all(
        this.queue.jobs.map(async (job, index) => {
          const queued = await this.queue.state(job.rollout);
          if (queued === 'completed' || queued === 'failed') return false;
          const state = states[index];
          const gate = state?.groups.find((group) => group.phase === 'awaiting_gate');
          // Waiting at a gate nobody answered yet is as far as it goes by itself.
          return (
            gate === undefined ||
            (await this.deps.rollouts.gateAnswer(job.rollout, gate.name)) !== undefined
          );
        }),
      );
      if (!busy.some(Boolean)) return;
      await this.clock.sleep(50);
    }
    throw new Error('the rollouts did not end');
  }

  /**
   * Delivers what the outbox holds: `sweeps` passes, or until chat shows what the state says
   * (a pass that calls nothing, with nothing waiting out a Retry-After or a backoff).
   */
  async deliver(sweeps = Infinity): Promise<void> {
    for (let pass = 0; pass < Math.min(sweeps, 500); pass++) {
      const calls = this.chat.calls.length;
      await this.view.sweep({ wait: true });
      const waiting = (await this.deps.outbox.unsettled(1000)).some(
        (record) => record.notBefore > this.deliveryClock.now(),
      );
      if (sweeps === Infinity && this.chat.calls.length === calls && !waiting) return;
      // Time passes for chat only: Retry-After, backoff, pacing.
      this.deliveryClock.advance(1000);
    }
    if (sweeps === Infinity) throw new Error('chat never caught up with the state');
  }

  /** The message the outbox keeps under `key`, as last delivered. */
  async message(key: string): Promise<SlackMessage | undefined> {
    const ref = (await this.deps.outbox.get(key))?.ref;
    return ref === undefined ? undefined : this.chat.latest(ref.ts);
  }

  replyTo(interaction: Interaction): SlackMessage | undefined {
    return this.chat.replies.find((reply) => reply.url === interaction.responseUrl)?.message;
  }
}
