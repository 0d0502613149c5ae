import { formatDuration } from '../duration.js';
import type { ApprovalRequest } from '../policy/index.js';
import { onlyText, type Plan } from '../rollout/index.js';
import {
  escape,
  LIMITS,
  mrkdwn,
  plain,
  type Block,
  type Button,
  type SlackMessage,
} from './block-kit.js';

/** Slack renders this in each reader's own time zone, with `fallback` where it cannot. */
export function slackDate(at: number): string {
  const seconds = Math.floor(at / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time_secs}|${new Date(at).toISOString()}>`;
}

/** A Slack user id as a mention; anything else (a terminal user, a worker) as plain text. */
export function who(user: string): string {
  const id = /^([UW][A-Z0-9]{2,})( .*)?$/.exec(user);
  return id === null ? escape(user) : `<@${id[1]}>${escape(id[2] ?? '')}`;
}

/** A rollout in a message's notification text, which Slack reads as mrkdwn too. */
export function fallback(plan: Pick<Plan, 'kind' | 'service' | 'version' | 'environment'>): string {
  return `${plan.kind} ${escape(plan.service)} ${escape(plan.version)} to ${escape(plan.environment)}`;
}

function change(plan: Plan): string {
  return plan.previousVersion === null
    ? `\`${escape(plan.version)}\``
    : `\`${escape(plan.previousVersion)}\` → \`${escape(plan.version)}\``;
}

function planSummary(plan: Plan): string {
  const hosts = plan.groups.reduce((sum, group) => sum + group.hosts.length, 0);
  const groups = plan.groups
    .map((group) => `${escape(group.name)} (${group.hosts.length})`)
    .join(' → ');
  return `${plan.groups.length} group${plan.groups.length === 1 ? '' : 's'}, ${hosts} host${hosts === 1 ? '' : 's'}: ${groups}`;
}

/** What the rollout is restricted to, and how many unreachable hosts it may leave out. */
function coverage(plan: Plan): string[] {
  const allowed = plan.unreachable?.allowed ?? 0;
  const listed = plan.groups
    .filter((group) => group.inventory !== undefined)
    .map((group) => {
      const names = group.hosts.map((host) => escape(host.name));
      const shown =
        names.length > 10
          ? `${names.slice(0, 10).join(', ')} and ${names.length - 10} more`
          : names.join(', ');
      return `${escape(group.name)} as its inventory lists it now: ${shown}`;
    });
  return [
    ...listed,
    ...(plan.only === undefined ? [] : [`only ${escape(onlyText(plan))}`]),
    ...(allowed === 0
      ? []
      : [
          `up to ${allowed} unreachable host${allowed === 1 ? '' : 's'} may be left out, not updated (max_unreachable ${escape(plan.unreachable?.written ?? '')})`,
        ]),
  ];
}

export interface ApprovalView {
  id: string;
  plan: Plan;
  request: ApprovalRequest;
  rollbackAfterMs?: number;
  /** What the approval caused: nothing is said while it starts; a launch that could not is. */
  launch?: { result?: { started: true } | { started: false; message: string } };
}

const DECIDED: Record<Exclude<ApprovalRequest['status'], 'pending'>, string> = {
  approved: '✅ Approved',
  rejected: '🚫 Rejected',
  withdrawn: '↩️ Withdrawn',
  expired: '⌛ Expired',
};

/**
 * The approval request as it stands: buttons while it is pending, and who decided and when once
 * it is not. Approving asks for confirmation, so a stray tap on a phone deploys nothing.
 */
export function approvalMessage(view: ApprovalView): SlackMessage {
  const { plan, request } = view;
  const title = `*${plan.kind} ${escape(plan.service)}* ${change(plan)} to *${escape(plan.environment)}*`;
  const deadMan =
    view.rollbackAfterMs === undefined
      ? []
      : [`rolls back by itself after ${formatDuration(view.rollbackAfterMs)} unless kept`];
  const context = [
    planSummary(plan),
    ...coverage(plan),
    `requested by ${who(request.requestedBy)}`,
    ...deadMan,
    request.status === 'pending' ? `expires ${slackDate(request.expiresAt)}` : '',
  ].filter((text) => text !== '');
  let outcome: string;
  if (request.status === 'pending') outcome = 'Waiting for approval.';
  else if (request.status === 'expired')
    outcome = `${DECIDED.expired}: nobody decided within ${formatDuration(request.expiresAt - request.requestedAt)}. Ask again with \`/deploy ${escape(plan.service)} ${escape(plan.version)} to ${escape(plan.environment)}\`.`;
  else
    outcome = `${DECIDED[request.status]} by ${who(request.decidedBy ?? 'someone')} ${slackDate(request.decidedAt ?? request.requestedAt)}`;
  const launched = view.launch?.result;
  // The launch's own words, built (and escaped) by baton where the launch was refused.
  if (launched !== undefined && !launched.started) outcome += `\n⚠️ ${launched.message}`;
  const blocks: Block[] = [
    { type: 'section', text: mrkdwn(`${title}\n${outcome}`) },
    { type: 'context', elements: context.map((text) => mrkdwn(text, 300)) },
  ];
  if (request.status === 'pending')
    blocks.push({ type: 'actions', elements: approvalButtons(view) });
  return {
    text: `${fallback(plan)}: ${request.status === 'pending' ? 'waiting for approval' : request.status}`,
    blocks,
  };
}

function approvalButtons(view: ApprovalView): Button[] {
  const { plan } = view;
  return [
    {
      type: 'button',
      action_id: 'approval.approve',
      text: plain('Approve'),
      style: 'primary',
      value: view.id,
      confirm: {
        title: plain(`Deploy to ${plan.environment}?`),
        text: mrkdwn(
          `This starts ${plan.kind} of *${escape(plan.service)}* ${change(plan)} on ${planSummary(plan)}.`,
          LIMITS.confirmText,
        ),
        confirm: plain('Approve and deploy'),
        deny: plain('Not yet'),
      },
    },
    { type: 'button', action_id: 'approval.reject', text: plain('Reject'), value: view.id },
    { type: 'button', action_id: 'approval.withdraw', text: plain('Withdraw'), value: view.id },
  ];
}

export interface ScheduleView {
  id: string;
  service: string;
  environment: string;
  /** Undefined: the previous good version, worked out when it fires. */
  version?: string;
  runAt: number;
  requestedBy: string;
  reason: 'scheduled' | 'rollback-after';
}

function scheduleLine(schedule: ScheduleView): string {
  const to =
    schedule.version === undefined
      ? 'the previous good version'
      : `\`${escape(schedule.version)}\``;
  const why = schedule.reason === 'rollback-after' ? ' unless kept' : '';
  return `Roll back *${escape(schedule.service)}* in *${escape(schedule.environment)}* to ${to} ${slackDate(schedule.runAt)}${why} (asked by ${who(schedule.requestedBy)})`;
}

function cancelButton(schedule: ScheduleView): Button {
  return schedule.reason === 'rollback-after'
    ? {
        type: 'button',
        action_id: 'schedule.keep',
        text: plain(`Keep what runs now`),
        style: 'primary',
        value: schedule.id,
      }
    : {
        type: 'button',
        action_id: 'schedule.cancel',
        text: plain('Cancel'),
        style: 'danger',
        value: schedule.id,
      };
}

export type ScheduleOutcome =
  | 'pending'
  | 'firing'
  | { cancelledBy: string; at: number }
  | 'fired'
  | { skipped: string }
  | { replacedAt: number };

/** A scheduled rollback as posted in the channel, with the button that stops it while it can. */
export function scheduleMessage(schedule: ScheduleView, outcome: ScheduleOutcome): SlackMessage {
  let line = `⏰ ${scheduleLine(schedule)}`;
  if (outcome === 'fired') line += '\nIt has fired: see below.';
  else if (outcome === 'firing') line += '\nIt is firing now.';
  else if (typeof outcome === 'object' && 'replacedAt' in outcome)
    line += `\nReplaced ${slackDate(outcome.replacedAt)} by the rollback of a later deploy.`;
  else if (typeof outcome === 'object' && 'skipped' in outcome)
    line += `\n⚠️ The scheduled rollback of ${escape(schedule.service)} in ${escape(schedule.environment)} did not run: ${escape(outcome.skipped)}. Roll back by hand if it is still needed.`;
  else if (outcome !== 'pending')
    line += `\n${schedule.reason === 'rollback-after' ? 'Kept' : 'Cancelled'} by ${who(outcome.cancelledBy)} ${slackDate(outcome.at)}.`;
  const blocks: Block[] = [{ type: 'section', text: mrkdwn(line) }];
  if (outcome === 'pending') blocks.push({ type: 'actions', elements: [cancelButton(schedule)] });
  return {
    text: `Scheduled rollback of ${escape(schedule.service)} in ${escape(schedule.environment)}`,
    blocks,
  };
}

/**
 * `/deploy schedules`: every pending rollback, with its Cancel (or Keep) button for the person
 * who may use it.
 */
export function schedulesMessage(
  schedules: readonly (ScheduleView & { mayStop?: boolean })[],
): SlackMessage {
  if (schedules.length === 0)
    return {
      text: 'No scheduled rollbacks.',
      blocks: [{ type: 'section', text: mrkdwn('No scheduled rollbacks.') }],
    };
  // Two blocks each; past 24 schedules the rest are counted, so the list stays one message.
  const shown = schedules.slice(0, 24);
  const blocks: Block[] = shown.flatMap((schedule): Block[] => [
    { type: 'section', text: mrkdwn(scheduleLine(schedule)) },
    schedule.mayStop === false
      ? {
          type: 'context',
          elements: [mrkdwn('Only its requester or a deployer of the service may stop it.')],
        }
      : { type: 'actions', elements: [cancelButton(schedule)] },
  ]);
  if (schedules.length > shown.length)
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(`and ${schedules.length - shown.length} more: \`baton schedules\` lists them all`),
      ],
    });
  return {
    text: `${schedules.length} scheduled rollback${schedules.length === 1 ? '' : 's'}`,
    blocks,
  };
}

/** A plain answer: text in a section, with the usage line as context when there is one. */
export function textMessage(text: string, hint?: string): SlackMessage {
  const blocks: Block[] = [{ type: 'section', text: mrkdwn(text) }];
  if (hint !== undefined) blocks.push({ type: 'context', elements: [mrkdwn(hint, 2000)] });
  return { text, blocks };
}

/** Lines of preformatted output (status, history, a plan), fenced so Slack keeps the columns. */
export function preformattedMessage(title: string, lines: readonly string[]): SlackMessage {
  const body = lines.join('\n');
  return {
    text: escape(title),
    blocks: [
      { type: 'section', text: mrkdwn(`*${escape(title)}*`) },
      { type: 'section', text: mrkdwn(`\`\`\`${escape(body).slice(0, 2900)}\`\`\``) },
    ],
  };
}
