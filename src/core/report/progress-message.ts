import { formatSeconds } from '../duration.js';
import {
  groupProgress,
  describeInventoryChanges,
  onlyText,
  skippedHosts,
  PHASE_WORDS,
  type GroupState,
  type RolloutState,
} from '../rollout/index.js';
import {
  escape,
  LIMITS,
  mrkdwn,
  plain,
  type Block,
  type Button,
  type SlackMessage,
} from './block-kit.js';
import { fallback, who } from './chat-messages.js';

const ICON: Record<GroupState['phase'], string> = {
  pending: '◻️',
  deploying: '🔄',
  verifying: '🔎',
  awaiting_gate: '⏸️',
  healthy: '✅',
  draining: '⚠️',
  rolling_back: '↩️',
  rollback_draining: '⚠️',
  rolled_back: '↩️',
  failed: '❌',
  rollback_failed: '🆘',
};

const STATUS: Record<RolloutState['status'], string> = {
  running: 'running',
  awaiting_gate: 'waiting for Continue',
  draining: 'failing',
  rolling_back: 'rolling back',
  succeeded: 'done',
  rolled_back: 'failed and rolled back',
  halted: 'halted',
  rollback_failed: 'rollback failed: hosts need a person',
  gave_up: 'stopped: baton could not go on, hosts need a person',
};

/** Host names shown in a group line before the rest are summarised as a count. */
const HOSTS_SHOWN = 5;
/** Group lines shown before the middle groups are summarised. */
const GROUPS_SHOWN = 40;

function hostList(names: string[]): string {
  const shown = names.slice(0, HOSTS_SHOWN).map(escape).join(', ');
  return names.length > HOSTS_SHOWN ? `${shown} and ${names.length - HOSTS_SHOWN} more` : shown;
}

function groupLine(group: GroupState, now: number): string {
  const progress = groupProgress(group, now);
  const counts =
    group.phase === 'pending'
      ? `${group.hosts.length} host${group.hosts.length === 1 ? '' : 's'}`
      : `${progress.healthy}/${progress.total}`;
  const time = progress.elapsedMs === undefined ? '' : ` · ${formatSeconds(progress.elapsedMs)}`;
  const detail = [
    progress.inFlight.length > 0 ? `now: ${hostList(progress.inFlight)}` : '',
    progress.failed.length > 0 ? `failed: ${hostList(progress.failed)}` : '',
  ]
    .filter((part) => part !== '')
    .join(' · ');
  return `${ICON[group.phase]} *${escape(group.name)}* ${PHASE_WORDS[group.phase]} ${counts}${time}${detail === '' ? '' : `\n      ${detail}`}`;
}

/** One section per group while they fit; a long middle is summarised by phase. */
function groupBlocks(state: RolloutState, now: number, room: number): Block[] {
  const lines = state.groups.map((group) => groupLine(group, now));
  if (lines.length <= Math.min(room, GROUPS_SHOWN))
    return lines.map((line) => ({ type: 'section', text: mrkdwn(line) }));
  const keep = Math.max(2, Math.min(room, GROUPS_SHOWN) - 1);
  const head = Math.ceil(keep / 2);
  const tail = keep - head;
  const middle = state.groups.slice(head, state.groups.length - tail);
  const byPhase = new Map<string, number>();
  for (const group of middle)
    byPhase.set(PHASE_WORDS[group.phase], (byPhase.get(PHASE_WORDS[group.phase]) ?? 0) + 1);
  const summary = `… ${middle.length} more groups: ${[...byPhase.entries()].map(([label, count]) => `${count} ${label}`).join(', ')}`;
  return [...lines.slice(0, head), summary, ...lines.slice(lines.length - tail)].map((line) => ({
    type: 'section',
    text: mrkdwn(line),
  }));
}

const GONE = /^no longer listed by its inventory$/;

/** The hosts pre-flight left out within max_unreachable: they keep the version they had. */
function notUpdatedLine(plan: RolloutState['plan']): string | undefined {
  const left = plan.notUpdated ?? [];
  if (left.length === 0) return undefined;
  const unreachable = left.filter((host) => !GONE.test(host.detail));
  const gone = left.filter((host) => GONE.test(host.detail));
  return [
    ...(unreachable.length === 0
      ? []
      : [
          `⚠️ *Not updated* (unreachable, within max_unreachable ${escape(plan.unreachable?.written ?? '')}): ${hostList(unreachable.map((host) => `${host.host} (${host.group})`))}`,
        ]),
    ...(gone.length === 0
      ? []
      : [
          `⚠️ *Not updated* (no longer in the inventory): ${hostList(gone.map((host) => `${host.host} (${host.group})`))}`,
        ]),
  ].join('\n');
}

function buttons(state: RolloutState): Button[] {
  const value = state.id;
  if (state.status === 'awaiting_gate') {
    return [
      {
        type: 'button',
        action_id: 'rollout.continue',
        text: plain('Continue'),
        style: 'primary',
        value,
      },
      { type: 'button', action_id: 'rollout.abort', text: plain('Abort'), style: 'danger', value },
    ];
  }
  if (state.status === 'running')
    return [
      {
        type: 'button',
        action_id: 'rollout.cancel',
        text: plain('Cancel'),
        style: 'danger',
        value,
      },
    ];
  if (state.status === 'succeeded' && state.plan.groups[0]?.hosts[0]?.rollback !== undefined) {
    return [
      {
        type: 'button',
        action_id: 'rollout.rollback',
        text: plain(`Roll back to ${state.plan.previousVersion ?? 'previous'}`),
        value,
      },
    ];
  }
  return [];
}

/**
 * The one message a rollout keeps up to date: a header, a line per group, the failure if there
 * is one, and the buttons that make sense now. Always within Block Kit's limits.
 */
export function progressMessage(
  state: RolloutState,
  now: number,
  requestedBy?: string,
): SlackMessage {
  const { plan } = state;
  const change =
    plan.previousVersion === null
      ? `\`${escape(plan.version)}\``
      : `\`${escape(plan.previousVersion)}\` → \`${escape(plan.version)}\``;
  const elapsed = formatSeconds((state.finishedAt ?? now) - state.startedAt);
  const header = `*${plan.kind} ${escape(plan.service)}* ${change} to *${escape(plan.environment)}*: ${STATUS[state.status]} (${elapsed})`;
  const context = [
    `${plan.groups.length} groups · ${plan.groups.reduce((sum, group) => sum + group.hosts.length, 0)} hosts`,
  ];
  if (plan.only !== undefined) context.push(`only ${escape(onlyText(plan))}`);
  const skipped = skippedHosts(plan);
  if (skipped.length > 0)
    context.push(`already on \`${escape(plan.version)}\`, left out: ${hostList(skipped)}`);
  if (requestedBy !== undefined) context.push(`requested by ${who(requestedBy)}`);
  if (state.cancel !== undefined) context.push(`cancel requested by ${who(state.cancel.by)}`);
  const actions = buttons(state);
  const failure =
    state.gaveUp !== undefined
      ? `*Stopped:* ${escape(state.gaveUp.reason)}. Each group is shown as it was left.`
      : state.failure === undefined
        ? undefined
        : `*Failed:* ${escape(state.failure.detail)}`;
  const left =
    [
      ...describeInventoryChanges(plan.inventoryChanges ?? []).map((line) => `⚠️ ${escape(line)}`),
      notUpdatedLine(plan),
    ]
      .filter((line) => line !== undefined)
      .join('\n') || undefined;
  const fixed =
    2 +
    (failure === undefined ? 0 : 1) +
    (actions.length === 0 ? 0 : 1) +
    (left === undefined ? 0 : 1);
  const blocks: Block[] = [
    { type: 'section', text: mrkdwn(header) },
    { type: 'context', elements: context.map((text) => mrkdwn(text, 300)) },
    ...groupBlocks(state, now, LIMITS.blocksPerMessage - fixed),
    ...(left === undefined ? [] : [{ type: 'section' as const, text: mrkdwn(left) }]),
    ...(failure === undefined ? [] : [{ type: 'section' as const, text: mrkdwn(failure) }]),
    ...(actions.length === 0 ? [] : [{ type: 'actions' as const, elements: actions }]),
  ];
  return {
    text: `${fallback(plan)}: ${STATUS[state.status]}`,
    blocks,
  };
}

/**
 * What makes an update of a rollout's message a milestone (sent within a second) rather than
 * host-level progress (sent at most every few seconds): its status, each group's phase, a cancel.
 */
export function progressMilestone(state: RolloutState): string {
  return [
    state.status,
    state.cancel?.by ?? '',
    ...state.groups.map((group) => `${group.name}:${group.phase}`),
  ].join('|');
}
