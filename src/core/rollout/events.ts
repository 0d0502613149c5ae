import type { PlannedStep } from './plan.js';
import type { Pass, RolloutStatus } from './state.js';

type HostRef = { group: string; host: string; pass: Pass };
type StepRef = HostRef & { step: number };

/** What the orchestrator reports back to the machine. Every event carries the time it happened. */
export type RolloutEvent = { at: number } & (
  | ({ type: 'step.started' } & StepRef)
  | ({ type: 'step.succeeded' } & StepRef)
  | ({ type: 'step.failed'; exitCode: number | null; detail: string; output?: string } & StepRef)
  | ({ type: 'step.timed_out'; output?: string } & StepRef)
  | ({ type: 'health.passed' } & HostRef)
  | ({ type: 'health.failed'; detail: string } & HostRef)
  | ({ type: 'health.timed_out'; detail: string } & HostRef)
  | { type: 'verify.passed'; group: string }
  | { type: 'verify.failed'; group: string; detail: string }
  | { type: 'gate.continued'; group: string; by: string }
  | { type: 'cancel.requested'; by: string }
);

/** What the machine asks the orchestrator to do next. */
export type Effect =
  | ({
      type: 'run_step';
      name: string;
      command: string;
      timeoutMs: number;
      /** Absent: on the host itself. */
      on?: PlannedStep['on'];
    } & StepRef)
  | ({ type: 'probe_health' } & HostRef)
  | { type: 'run_verify'; group: string }
  | { type: 'await_gate'; group: string }
  /** Stop probing and verifying this group: their results no longer matter. */
  | { type: 'abandon'; group: string }
  | { type: 'finish'; status: RolloutStatus };

/** Milestones worth telling people about; derived from the transition, never needed to drive it. */
export type Announcement =
  | { type: 'rollout.started' }
  | { type: 'group.started'; group: string }
  | { type: 'group.healthy'; group: string }
  | { type: 'group.failed'; group: string; detail: string }
  | { type: 'rollback.started'; group: string }
  | { type: 'rollback.finished'; group: string }
  | { type: 'rollout.completed' }
  | { type: 'rollout.halted'; status: RolloutStatus; detail: string }
  | { type: 'cancel.noted'; by: string };

export type RolloutErrorCode =
  'rollout_finished' | 'unknown_group' | 'unknown_host' | 'unexpected_event';

export interface RolloutError {
  code: RolloutErrorCode;
  message: string;
}
