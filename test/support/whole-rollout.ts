import {
  applyEvent,
  startRollout,
  type Effect,
  type Plan,
  type RolloutEvent,
  type RolloutState,
} from '../../src/core/rollout/index.js';

export interface RolloutStep {
  event: RolloutEvent;
  state: RolloutState;
}

/** A whole rollout of `plan` with every step and probe passing: each event with the state it led to. */
export function wholeRollout(
  plan: Plan,
  id: string,
): { first: RolloutState; steps: RolloutStep[] } {
  const started = startRollout(plan, id, 1000);
  const steps: RolloutStep[] = [];
  const outstanding: Effect[] = [...started.effects];
  let state = started.state;
  let at = 1000;
  const feed = (event: RolloutEvent) => {
    const result = applyEvent(state, event);
    if (!result.ok) throw new Error(result.error.message);
    state = result.state;
    steps.push({ event, state });
    outstanding.push(...result.effects);
  };
  for (let effect = outstanding.shift(); effect !== undefined; effect = outstanding.shift()) {
    at += 1;
    if (effect.type === 'run_step') {
      const ref = { group: effect.group, host: effect.host, pass: effect.pass, step: effect.step };
      feed({ type: 'step.started', ...ref, at });
      feed({ type: 'step.succeeded', ...ref, at });
    } else if (effect.type === 'probe_health')
      feed({
        type: 'health.passed',
        group: effect.group,
        host: effect.host,
        pass: effect.pass,
        at,
      });
  }
  return { first: started.state, steps };
}
