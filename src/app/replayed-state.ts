import { applyEvent, type RolloutState } from '../core/rollout/index.js';
import type { StoredUpdate } from './store-ports.js';

/**
 * A follower's own copy of a rollout's state, kept current by applying the events it reads to it
 * (the machine is deterministic, so it reaches the state the worker stored). The checkpoint is
 * loaded only at first and when an update was missed (a gap in the sequence): following a
 * rollout then costs what its events cost, not a whole state per event.
 */
export class ReplayedState {
  private state: RolloutState | undefined;
  /** How many times the checkpoint was loaded. */
  loads = 0;

  constructor(private readonly load: () => Promise<RolloutState | undefined>) {}

  get current(): RolloutState | undefined {
    return this.state;
  }

  /** The state as of `update` (or newer); undefined while the rollout has no checkpoint yet. */
  async after(update: StoredUpdate): Promise<RolloutState | undefined> {
    if (update.kind !== 'event' && update.kind !== 'announcement') return this.state;
    if (this.state !== undefined && this.replay(update)) return this.state;
    this.loads += 1;
    this.state = await this.load();
    if (this.state !== undefined) this.replay(update);
    return this.state;
  }

  /** Brings the copy up to `update`; false when that takes the checkpoint (a gap). */
  private replay(update: StoredUpdate & { sequence: number }): boolean {
    const known = this.state as RolloutState;
    if (update.sequence <= known.sequence) return true;
    if (update.kind !== 'event' || update.sequence !== known.sequence + 1) return false;
    const next = applyEvent(known, update.event);
    if (!next.ok || next.state.sequence !== update.sequence) return false;
    this.state = next.state;
    return true;
  }
}
