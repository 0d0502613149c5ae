import type { Plan } from './plan.js';
import type { GroupState, HostState, RolloutState } from './state.js';

/**
 * A checkpoint in parts, so that its cost follows what changed rather than the fleet's size: the
 * plan (written once per rollout), the progress (the state without its plan, written when a run
 * starts or resumes), and one small change per transition after that.
 */
export type Progress = Omit<RolloutState, 'plan'>;

type Field = Exclude<keyof Progress, 'groups' | 'sequence'>;
type GroupHeader = Omit<GroupState, 'hosts'>;

/** What one transition changed: the fields it set or removed, and the groups and hosts it moved. */
export interface StateChange {
  /** The sequence this change starts from, and the one it leads to. */
  from: number;
  sequence: number;
  set?: Partial<Pick<Progress, Field>>;
  unset?: Field[];
  groups?: { index: number; group?: GroupHeader; hosts?: [number, HostState][] }[];
}

export function progressOf(state: RolloutState): Progress {
  const { plan: _plan, ...progress } = state;
  return progress;
}

export function withPlan(plan: Plan, progress: Progress): RolloutState {
  return { ...progress, plan };
}

const FIELDS_SKIPPED = new Set(['plan', 'groups', 'sequence']);
// Fields that are small (a status, a failure, a list of group indexes): compared by their JSON.
const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/**
 * Whether two records hold the same fields with the same values (`skipped` aside). Every field is
 * compared, so a field added to a host or a group later is stored without anyone updating this.
 */
function sameFields<T extends object>(a: T | undefined, b: T, skipped?: keyof T): boolean {
  if (a === undefined) return false;
  if (a === b) return true;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof T)[]);
  for (const key of keys) if (key !== skipped && !same(a[key], b[key])) return false;
  return true;
}

const sameHost = (a: HostState | undefined, b: HostState) => sameFields(a, b);
const sameHeader = (a: GroupState | undefined, b: GroupState) => sameFields(a, b, 'hosts');

function headerOf(group: GroupState): GroupHeader {
  const { hosts: _hosts, ...header } = group;
  return header;
}

/**
 * What changed from `previous` to `next` (two states of one rollout). Groups the machine did not
 * touch are the same objects in both, so only the touched ones are looked into.
 */
export function changeBetween(previous: RolloutState, next: RolloutState): StateChange {
  const change: StateChange = { from: previous.sequence, sequence: next.sequence };
  const keys = new Set([...Object.keys(previous), ...Object.keys(next)]);
  for (const key of keys) {
    if (FIELDS_SKIPPED.has(key)) continue;
    const field = key as Field;
    if (same(previous[field], next[field])) continue;
    if (next[field] === undefined) (change.unset ??= []).push(field);
    else (change.set ??= {})[field] = next[field] as never;
  }
  next.groups.forEach((group, index) => {
    const before = previous.groups[index];
    if (before === group) return;
    const hosts: [number, HostState][] = [];
    group.hosts.forEach((host, at) => {
      if (!sameHost(before?.hosts[at], host)) hosts.push([at, host]);
    });
    const header = sameHeader(before, group) ? undefined : headerOf(group);
    if (header === undefined && hosts.length === 0) return;
    (change.groups ??= []).push({
      index,
      ...(header === undefined ? {} : { group: header }),
      ...(hosts.length === 0 ? {} : { hosts }),
    });
  });
  return change;
}

/** The state `change` leads to from `state`; `state` is not changed. */
export function applyChange(state: RolloutState, change: StateChange): RolloutState {
  const next: RolloutState = { ...state, ...change.set, sequence: change.sequence };
  for (const field of change.unset ?? []) Reflect.deleteProperty(next, field);
  if (change.groups === undefined) return next;
  next.groups = [...state.groups];
  for (const { index, group, hosts } of change.groups) {
    const current = next.groups[index];
    if (current === undefined) throw new Error(`a checkpoint change names group ${index}`);
    const copy: GroupState =
      group === undefined ? { ...current } : { ...group, hosts: current.hosts };
    if (hosts !== undefined) {
      copy.hosts = [...current.hosts];
      for (const [at, host] of hosts) copy.hosts[at] = host;
    }
    next.groups[index] = copy;
  }
  return next;
}

/**
 * The state a checkpoint's parts describe: its progress, then each change made since, in order.
 * Changes no newer than the progress are left from before it was written, and skipped.
 */
export function fromCheckpoint(
  plan: Plan,
  progress: Progress,
  changes: readonly StateChange[],
): RolloutState {
  let state = withPlan(plan, progress);
  for (const change of changes) {
    if (change.sequence <= state.sequence) continue;
    if (change.from !== state.sequence)
      throw new Error(
        `its checkpoint has a change from ${change.from} to ${change.sequence} after ${state.sequence}`,
      );
    state = applyChange(state, change);
  }
  return state;
}
