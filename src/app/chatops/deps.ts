import type { UseCaseDeps } from '../use-cases/deps.js';

/** What the chat front end needs: the use cases' dependencies, and a way to deliver now. */
export interface ChatFrontDeps extends UseCaseDeps {
  /** The outbox has something new: deliver it now rather than at the next sweep. */
  kick(): void;
  /** Says something went wrong that no user is waiting to hear about. */
  warn(message: string): void;
}

/** Who typed or clicked, where, and how to answer them. */
export interface Interaction {
  user: string;
  channel: string;
  responseUrl: string;
  /** Unique per command or click: the key that makes Slack's redeliveries harmless. */
  deliveryId: string;
}

/** How long a delivery id is remembered: longer than Slack ever retries. */
export const DELIVERY_TTL_MS = 60 * 60_000;
