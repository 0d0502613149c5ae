import pLimit from 'p-limit';
import type { Chat } from '../chat-ports.js';
import { expireAndFollowUp } from '../use-cases/decide-approval.js';
import type { UseCaseDeps } from '../use-cases/deps.js';
import { deliverOne, type DelivererDeps } from './deliver.js';
import { RolloutFollower } from './follow-rollouts.js';

/** A message's delivery duty lapses this long after its process stops renewing it. */
export const DELIVERY_LEASE_MS = 15_000;
/** How often the outbox is looked at when nothing kicks it. */
const SWEEP_MS = 250;
/** How often requests are expired, and interrupted launches completed. */
const HOUSEKEEPING_MS = 1000;
/** Messages delivered at once: one slow call to Slack does not hold up the others. */
const CONCURRENCY = 4;
/** Messages looked at per sweep. */
const BATCH = 200;

export interface ChatViewOptions {
  /** This process, for the delivery duty of each message. */
  owner: string;
  warn(message: string): void;
  leaseMs?: number;
  random?: () => number;
}

/**
 * Keeps chat showing what the state says: the loop every process serving chat runs. It
 * delivers the outbox, follows live rollouts, and does the housekeeping of requests. Any number
 * of processes may run one; each message is delivered by one of them at a time. Every step
 * catches what goes wrong, says so, and goes on.
 */
export class ChatView {
  private readonly deliverer: DelivererDeps;
  private readonly follower: RolloutFollower;
  private readonly limit = pLimit(CONCURRENCY);
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastHousekeeping = -Infinity;
  private stopped = true;

  constructor(
    private readonly deps: UseCaseDeps,
    chat: Chat,
    private readonly options: ChatViewOptions,
  ) {
    this.deliverer = {
      ...deps,
      chat,
      owner: options.owner,
      leaseMs: options.leaseMs ?? DELIVERY_LEASE_MS,
      warn: options.warn,
      random: options.random ?? Math.random,
      // Live rollout messages are drawn from the state the follower replays, not a load each time.
      followed: (rollout) => this.follower.stateOf(rollout),
    };
    this.follower = new RolloutFollower(deps);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Looks at the outbox now (something was just added), rather than at the next sweep. */
  kick(): void {
    if (!this.stopped && this.running === undefined) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await Promise.all(this.inFlight.values());
  }

  /** Deliveries under way in this process. */
  get active(): number {
    return this.inFlight.size;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.sweep({ wait: false }).finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(SWEEP_MS);
      });
    }, ms);
  }

  /**
   * One pass: housekeeping when due, new facts from followed rollouts, and a delivery attempt
   * for every message that has something to send. `wait`: until those deliveries are done.
   */
  async sweep({ wait }: { wait: boolean }): Promise<void> {
    const now = this.deps.clock.now();
    if (now - this.lastHousekeeping >= HOUSEKEEPING_MS) {
      this.lastHousekeeping = now;
      await expireAndFollowUp(this.deps, this.options.warn).catch((error: unknown) =>
        this.options.warn(`housekeeping of requests: ${(error as Error).message}`),
      );
    }
    try {
      let records = await this.deps.outbox.unsettled(BATCH);
      if (await this.follower.tick(records)) records = await this.deps.outbox.unsettled(BATCH);
      for (const record of records) {
        if (this.inFlight.has(record.key)) continue;
        const delivery = this.limit(() => deliverOne(this.deliverer, record))
          .catch((error: unknown) =>
            this.options.warn(`delivering ${record.key}: ${(error as Error).message}`),
          )
          .finally(() => this.inFlight.delete(record.key));
        this.inFlight.set(record.key, delivery);
      }
    } catch (error) {
      this.options.warn(`looking at the outbox: ${(error as Error).message}`);
    }
    if (wait) await Promise.all(this.inFlight.values());
  }
}
