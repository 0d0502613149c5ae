export * from './plan.js';
export {
  planRollout,
  chooseEnvironment,
  type RolloutRequest,
  type PlanResult,
  type PlanErrorCode,
} from './planner.js';
export { versionProblem, versionRegExp, VERSION_CHARACTERS_TEXT } from './version.js';
export { describePlan, onlyText } from './describe-plan.js';
export { groupProgress, hostsInPass, PHASE_WORDS, type GroupProgress } from './group-progress.js';
export * from './state.js';
export type * from './events.js';
export { startRollout, applyEvent, resumeEffects, inFlight, type Transition } from './machine.js';
export {
  allowedUnreachable,
  withinBudget,
  type UnreachableHost,
  type BudgetDecision,
} from './budget.js';
export {
  applyInventoryChanges,
  describeInventoryChanges,
  plannedInventories,
} from './inventory-change.js';
export * from './checkpoint.js';
export {
  describeHostVersions,
  hostVersionsAfter,
  readVersion,
  skippedHosts,
  withHostVersions,
  type HostObservation,
  type ReadVersion,
  type VersionsSeen,
} from './host-versions.js';
