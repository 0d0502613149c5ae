import {
  applyEvent,
  startRollout,
  type Effect,
  type Plan,
  type RolloutEvent,
  type RolloutState,
  type Transition,
} from '../../src/core/rollout/index.js';

type Distribute<T> = T extends unknown ? Omit<T, 'at'> : never;
export type EventInput = Distribute<RolloutEvent>;

/** Feeds events to the machine one at a time, keeping every effect it asked for, for assertions. */
export class RolloutDriver {
  state: RolloutState;
  readonly effects: Effect[] = [];
  private clock = 0;

  constructor(plan: Plan, id = 'r1') {
    const started = startRollout(plan, id, this.clock);
    this.state = started.state;
    this.effects.push(...started.effects);
  }

  send(event: EventInput): Transition & { ok: true } {
    const result = this.trySend(event);
    if (!result.ok) throw new Error(`${event.type} refused: ${result.error.message}`);
    return result;
  }

  trySend(event: EventInput): Transition {
    this.clock += 10;
    const result = applyEvent(this.state, { ...event, at: this.clock } as RolloutEvent);
    if (result.ok) {
      this.state = result.state;
      this.effects.push(...result.effects);
    }
    return result;
  }

  /** Runs every step of a host's current pass to success and passes its health check. */
  hostSucceeds(
    group: string,
    host: string,
    pass: 'forward' | 'rollback' = 'forward',
    steps = 2,
  ): void {
    for (let step = 0; step < steps; step++) {
      this.send({ type: 'step.started', group, host, pass, step });
      this.send({ type: 'step.succeeded', group, host, pass, step });
    }
    this.send({ type: 'health.passed', group, host, pass });
  }

  /** A step exits non-zero. */
  stepFails(
    group: string,
    host: string,
    step: number,
    pass: 'forward' | 'rollback' = 'forward',
    detail = 'boom',
  ) {
    return this.send({ type: 'step.failed', group, host, pass, step, exitCode: 1, detail });
  }

  phases(): Record<string, string> {
    return Object.fromEntries(this.state.groups.map((group) => [group.name, group.phase]));
  }

  hostPhases(group: string): string[] {
    const found = this.state.groups.find((candidate) => candidate.name === group);
    return found?.hosts.map((host) => `${host.name}:${host.pass}:${host.phase}`) ?? [];
  }

  stepEffects(): string[] {
    return this.effects.flatMap((effect) =>
      effect.type === 'run_step'
        ? [`${effect.pass} ${effect.group}/${effect.host} #${effect.step}`]
        : [],
    );
  }
}
