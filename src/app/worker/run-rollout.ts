import {
  applyEvent,
  isTerminal,
  resumeEffects,
  startRollout,
  type Announcement,
  type Effect,
  type Plan,
  type RolloutEvent,
  type RolloutState,
} from '../../core/rollout/index.js';
import {
  ExecutorClosedError,
  isHostFailure,
  type Clock,
  type CommandResult,
  type ControllerShell,
  type HealthProbe,
  type HostTarget,
  type RemoteExecutor,
} from '../ports.js';
import { hostTarget } from '../host-target.js';
import { waitUntilHealthy } from './wait-until-healthy.js';
import { ComingUp } from './coming-up.js';

export type GateAnswer = { continue: true; by: string } | { continue: false; by: string };

/** What happened, in order: the events fed to the machine and the milestones it announced. */
export type RolloutUpdate = { worker?: string } & (
  | { kind: 'event'; event: RolloutEvent; state: RolloutState }
  | { kind: 'announcement'; announcement: Announcement; state: RolloutState; at: number }
);

/** One event applied (none for the start) and the state and milestones it led to. */
interface Transition {
  event?: RolloutEvent;
  state: RolloutState;
  announcements: Announcement[];
}

export interface RolloutPorts {
  executor: RemoteExecutor;
  /** Where hooks `on: controller` run: the worker's own machine. */
  controller: ControllerShell;
  health: HealthProbe;
  clock: Clock;
  /**
   * Stores the state (`previous`: the one stored before, one or more transitions back; absent when
   * a write whose answer was lost may have landed, so the whole progress goes), and with it the
   * updates that led there, in order; awaited before any effect of them starts.
   */
  checkpoint(
    state: RolloutState,
    previous: RolloutState | undefined,
    updates: RolloutUpdate[],
  ): Promise<void>;
  /** Each update once its checkpoint is stored, in order. */
  report(update: RolloutUpdate): void;
  /** Waits for someone to continue past (or abort at) a manual gate. */
  gate(group: string, state: RolloutState, signal: AbortSignal): Promise<GateAnswer>;
}

export interface RolloutOutcome {
  /** The last state checkpointed. */
  state: RolloutState;
  /**
   * The run stopped early, with the steps in flight finished: its process is shutting down, or a
   * checkpoint could not be stored. A later attempt resumes it from its checkpoint.
   */
  suspended: boolean;
  /** Why it was suspended. */
  reason?: string;
  /** What suspended it: the process stopping, another worker taking the job, or a failing store. */
  cause?: SuspendCause;
}

export type SuspendCause = 'stopping' | 'lock_lost' | 'store';

/**
 * Drives one rollout: feeds results to the state machine one at a time, checkpoints each new
 * state, reports it, and only then starts the effects it asks for.
 */
export class RolloutRun {
  private state: RolloutState;
  private readonly pending: RolloutEvent[] = [];
  private wake: (() => void) | undefined;
  private readonly running = new Set<Promise<void>>();
  private readonly groupSignals = new Map<string, AbortController>();
  /** Forward and rollback restarts each come up after a time of their own. */
  private readonly comingUp = { forward: new ComingUp(), rollback: new ComingUp() };
  private suspended = false;
  private suspendedFor: { reason: string; cause: SuspendCause } | undefined;
  /** The newest state that is stored: what a resumed run starts from. */
  private stored: RolloutState;
  /**
   * A checkpoint failed: it may have been stored all the same (its answer lost), so what is stored
   * is not known to be `stored`, and the next one is written whole rather than as a change from it.
   */
  private storedUnsure = false;

  private constructor(
    private readonly ports: RolloutPorts,
    private readonly initial: {
      state: RolloutState;
      effects: Effect[];
      announcements: Announcement[];
    },
  ) {
    this.state = initial.state;
    this.stored = initial.state;
  }

  static start(plan: Plan, id: string, ports: RolloutPorts): RolloutRun {
    return new RolloutRun(ports, startRollout(plan, id, ports.clock.now()));
  }

  /** Continues from a checkpoint: redoes the work that was in flight, never a finished group. */
  static resume(state: RolloutState, ports: RolloutPorts): RolloutRun {
    return new RolloutRun(ports, { state, effects: resumeEffects(state), announcements: [] });
  }

  get current(): RolloutState {
    return this.state;
  }

  /** Stops after the current step, then applies the playbook's failure policy. */
  cancel(by: string): void {
    this.enqueue({ type: 'cancel.requested', by, at: this.ports.clock.now() });
  }

  /**
   * Starts nothing new, lets the steps in flight finish (and be checkpointed), then ends the run
   * without finishing the rollout: the checkpoint says what another worker must do next.
   */
  suspend(reason = 'this process is stopping', cause: SuspendCause = 'stopping'): void {
    if (!this.suspended) this.suspendedFor = { reason, cause };
    this.suspended = true;
    for (const controller of this.groupSignals.values()) controller.abort();
    this.wake?.();
  }

  private finished: Promise<RolloutOutcome> | undefined;

  /** Resolves when run() has ended, whether it finished the rollout or was suspended. */
  async settled(): Promise<void> {
    await this.finished?.catch(() => undefined);
  }

  run(): Promise<RolloutOutcome> {
    this.finished ??= this.drive();
    return this.finished;
  }

  private async drive(): Promise<RolloutOutcome> {
    await this.settle(
      [{ state: this.state, announcements: this.initial.announcements }],
      this.initial.effects,
    );
    while (!isTerminal(this.stored.status) || this.running.size > 0) {
      if (this.suspended && this.running.size === 0 && this.pending.length === 0) break;
      const event = await this.nextEvent();
      if (event === undefined) continue;
      // One turn of the event loop lets the answers already in (a store that answers without one,
      // as the embedded database does, would leave them waiting) join this checkpoint.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // Every event that has arrived by now goes into one checkpoint, and their effects start after
      // it: none has started before it is stored, as if each were stored alone, at one write for
      // all of them rather than one each (what a large group's hosts answering together costs).
      const transitions: Transition[] = [];
      const effects: Effect[] = [];
      for (const arrived of [event, ...this.pending.splice(0)]) {
        const result = applyEvent(this.state, arrived);
        if (!result.ok) {
          // After the end, late answers (a cancel, a probe) change nothing; anything else is a bug.
          if (result.error.code === 'rollout_finished') continue;
          throw new Error(`rollout ${this.state.id}: ${result.error.message}`);
        }
        this.state = result.state;
        transitions.push({
          event: arrived,
          state: result.state,
          announcements: result.announcements,
        });
        effects.push(...result.effects);
      }
      if (transitions.length > 0) await this.settle(transitions, effects);
    }
    return {
      state: this.stored,
      suspended: !isTerminal(this.stored.status),
      ...(this.suspendedFor === undefined || isTerminal(this.stored.status)
        ? {}
        : this.suspendedFor),
    };
  }

  /**
   * Stores the transitions, then starts their effects; at the end, stops every probe and gate,
   * those just started too (stored alone, an earlier event's would have started before the end).
   */
  private async settle(transitions: readonly Transition[], effects: Effect[]): Promise<void> {
    if (!(await this.commit(transitions))) return;
    this.perform(effects);
    if (isTerminal(this.stored.status))
      for (const controller of this.groupSignals.values()) controller.abort();
  }

  /**
   * Stores the newest state, then reports each transition to it; false (and the run suspended)
   * when it cannot be stored, since no effect may start from a state that a resumed run would not
   * know.
   */
  private async commit(transitions: readonly Transition[]): Promise<boolean> {
    const state = this.state;
    const updates: RolloutUpdate[] = transitions.flatMap(
      ({ event, state: reached, announcements }) => [
        ...(event === undefined ? [] : [{ kind: 'event' as const, event, state: reached }]),
        ...announcements.map((announcement) => ({
          kind: 'announcement' as const,
          announcement,
          state: reached,
          at: reached.updatedAt,
        })),
      ],
    );
    try {
      await this.ports.checkpoint(state, this.storedUnsure ? undefined : this.stored, updates);
    } catch (error) {
      this.storedUnsure = true;
      this.suspend(`its checkpoint could not be stored: ${(error as Error).message}`, 'store');
      return false;
    }
    this.stored = state;
    this.storedUnsure = false;
    for (const update of updates) this.ports.report(update);
    return true;
  }

  private enqueue(event: RolloutEvent): void {
    this.pending.push(event);
    this.wake?.();
  }

  private nextEvent(): Promise<RolloutEvent | undefined> {
    const event = this.pending.shift();
    if (event !== undefined) return Promise.resolve(event);
    if ((isTerminal(this.state.status) || this.suspended) && this.running.size === 0)
      return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve(this.pending.shift());
      };
    });
  }

  private track(task: () => Promise<void>): void {
    const promise = task()
      .catch((error: unknown) => {
        // The executor closed under the run (its process is stopping, and the run was not among
        // those it suspended first): nothing is known of the host, so the run suspends rather
        // than take it for a failure; a step cut off this way runs again when it resumes.
        if (error instanceof ExecutorClosedError) return this.suspend();
        // A task that throws is a bug in baton, not in the host: stop rather than guess.
        this.enqueue({
          type: 'cancel.requested',
          by: `baton (internal error: ${(error as Error).message})`,
          at: this.ports.clock.now(),
        });
      })
      .finally(() => {
        this.running.delete(promise);
        this.wake?.();
      });
    this.running.add(promise);
  }

  private signalFor(group: string): AbortSignal {
    let controller = this.groupSignals.get(group);
    if (controller === undefined || controller.signal.aborted) {
      controller = new AbortController();
      this.groupSignals.set(group, controller);
    }
    return controller.signal;
  }

  private target(
    group: string,
    host: string,
  ): { target: HostTarget; planned: Plan['groups'][number]['hosts'][number] } {
    const planned = this.state.plan.groups
      .find((candidate) => candidate.name === group)
      ?.hosts.find((candidate) => candidate.name === host);
    if (planned === undefined) throw new Error(`no host ${host} in group ${group}`);
    return { target: hostTarget(this.state.plan, planned), planned };
  }

  private perform(effects: Effect[]): void {
    // A suspended run leaves new work to whoever resumes it: the checkpoint already asks for it.
    if (this.suspended) return;
    for (const effect of effects) {
      switch (effect.type) {
        case 'run_step':
          this.track(() => this.runStep(effect));
          break;
        case 'probe_health':
          this.track(() => this.probe(effect));
          break;
        case 'run_verify':
          this.track(() => this.verify(effect.group));
          break;
        case 'await_gate':
          this.track(() => this.awaitGate(effect.group));
          break;
        case 'abandon':
          this.groupSignals.get(effect.group)?.abort();
          break;
        case 'finish':
          break;
      }
    }
  }

  private async runStep(effect: Extract<Effect, { type: 'run_step' }>): Promise<void> {
    const { group, host, pass, step } = effect;
    const ref = { group, host, pass, step };
    const { target } = this.target(group, host);
    this.enqueue({ type: 'step.started', ...ref, at: this.ports.clock.now() });
    try {
      const result = await this.runWhere(effect, target);
      const output = [result.stdoutTail, result.stderrTail]
        .filter((text) => text !== '')
        .join('\n');
      const at = this.ports.clock.now();
      if (result.timedOut) this.enqueue({ type: 'step.timed_out', ...ref, output, at });
      else if (result.exitCode === 0) this.enqueue({ type: 'step.succeeded', ...ref, at });
      else {
        const last = (result.stderrTail || result.stdoutTail).trim().split('\n').at(-1) ?? '';
        const detail =
          result.exitCode === null
            ? 'the connection dropped before the command ended'
            : last || 'no output';
        this.enqueue({
          type: 'step.failed',
          ...ref,
          exitCode: result.exitCode,
          detail,
          output,
          at,
        });
      }
    } catch (error) {
      if (!isHostFailure(error)) throw error;
      this.enqueue({
        type: 'step.failed',
        ...ref,
        exitCode: null,
        detail: error.message,
        at: this.ports.clock.now(),
      });
    }
  }

  /** On the host, on the controller, or on the host a hook names. */
  private runWhere(
    effect: Extract<Effect, { type: 'run_step' }>,
    host: HostTarget,
  ): Promise<CommandResult> {
    const options = { timeoutMs: effect.timeoutMs };
    if (effect.on === 'controller') return this.ports.controller.run(effect.command, options);
    const target = effect.on === undefined ? host : hostTarget(this.state.plan, effect.on);
    return this.ports.executor.run(target, effect.command, options);
  }

  private async probe(effect: Extract<Effect, { type: 'probe_health' }>): Promise<void> {
    const { group, host, pass } = effect;
    const { target, planned } = this.target(group, host);
    const procedure = pass === 'forward' ? planned.forward : planned.rollback;
    if (procedure === undefined) throw new Error(`no ${pass} procedure for ${host}`);
    const outcome = await waitUntilHealthy(
      procedure.probe,
      target,
      this.state.plan.health,
      this.ports.health,
      this.ports.clock,
      this.signalFor(group),
      // A command check costs the host a command each time, and one behind jump hosts a channel
      // through them: neither is checked closely.
      procedure.probe.kind === 'command' || (target.jump ?? []).length > 0
        ? undefined
        : this.comingUp[pass],
    );
    if (outcome.outcome === 'abandoned') return;
    const at = this.ports.clock.now();
    if (outcome.outcome === 'passed')
      this.enqueue({ type: 'health.passed', group, host, pass, at });
    else this.enqueue({ type: 'health.timed_out', group, host, pass, detail: outcome.detail, at });
  }

  private async verify(group: string): Promise<void> {
    const hosts = this.state.plan.groups.find((candidate) => candidate.name === group)?.hosts ?? [];
    const failures = await Promise.all(
      hosts.map(async (planned) => {
        const verify = planned.forward.verify;
        if (verify === undefined) return undefined;
        const { target } = this.target(group, planned.name);
        try {
          const result = await this.ports.executor.run(target, verify.command, {
            timeoutMs: verify.timeoutMs,
          });
          if (result.exitCode === 0) return undefined;
          const last = (result.stderrTail || result.stdoutTail).trim().split('\n').at(-1) ?? '';
          return `${planned.name}: ${result.timedOut ? 'timed out' : `exit ${result.exitCode ?? 'none'}`}${last === '' ? '' : ` (${last})`}`;
        } catch (error) {
          if (!isHostFailure(error)) throw error;
          return `${planned.name}: ${error.message}`;
        }
      }),
    );
    const failed = failures.filter((failure) => failure !== undefined);
    const at = this.ports.clock.now();
    if (failed.length === 0) this.enqueue({ type: 'verify.passed', group, at });
    else this.enqueue({ type: 'verify.failed', group, detail: failed.join('; '), at });
  }

  private async awaitGate(group: string): Promise<void> {
    const signal = this.signalFor(group);
    const answer = await this.ports.gate(group, this.state, signal);
    if (signal.aborted) return;
    const at = this.ports.clock.now();
    this.enqueue(
      answer.continue
        ? { type: 'gate.continued', group, by: answer.by, at }
        : { type: 'cancel.requested', by: answer.by, at },
    );
  }
}
