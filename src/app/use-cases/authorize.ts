import { VERBS } from '../../core/command/index.js';
import {
  unusablePlaybookMessage,
  type Environment,
  type Playbook,
} from '../../core/playbook/index.js';
import { canDeploy, type Actor } from '../../core/policy/index.js';
import { escape } from '../../core/report/block-kit.js';
import { chooseEnvironment } from '../../core/rollout/index.js';
import { closest, didYouMean } from '../../core/suggest.js';
import { auditEntry, type AuditDetails } from '../audit.js';
import type { Target } from '../target.js';
import type { Principal, UseCaseDeps } from './deps.js';
import { refusal, type Refusal } from './outcome.js';

/** The person or operator, with the user groups that playbooks may name. */
export async function actorFor(deps: UseCaseDeps, who: Principal): Promise<Actor> {
  if (who.kind === 'operator') return { userId: who.id, groups: [], kind: 'operator' };
  return { userId: who.id, groups: await deps.directory.groupsOf(who.id), kind: 'person' };
}

/** A command for the actor's own front end: `/deploy unlock parser to production` or `baton unlock parser --env production`. */
export function command(actor: Actor, words: string, target?: Target): string {
  if (actor.kind === 'operator')
    return `baton ${words}${target === undefined ? '' : ` --env ${target.environment}`}`;
  return `/deploy ${words}${target === undefined ? '' : ` to ${target.environment}`}`;
}

/** The playbook of a service, or a refusal that says what there is (or what is broken). */
export async function findPlaybook(
  deps: UseCaseDeps,
  service: string,
): Promise<Playbook | Refusal> {
  const { playbooks, problems, unusable } = await deps.playbooks.load();
  const playbook = playbooks.get(service);
  if (playbook !== undefined) return playbook;
  const broken = unusable?.get(service);
  if (broken !== undefined)
    return refusal('broken_playbook', escape(unusablePlaybookMessage(broken)));
  const known = [...playbooks.keys()];
  const verb = closest(service, VERBS);
  if (verb !== undefined && !known.includes(service))
    return refusal(
      'no_playbook',
      `There is no playbook for \`${escape(service)}\`. Did you mean \`/deploy ${verb} …\`? \`/deploy help\` lists the commands.`,
    );
  const note = problems > 0 ? ' Some playbooks have problems: run `baton validate`.' : '';
  return refusal(
    'no_playbook',
    known.length === 0
      ? `There is no valid playbook for \`${escape(service)}\`.${note}`
      : `There is no playbook for \`${escape(service)}\`. Services: ${known.map(escape).join(', ')}.${escape(didYouMean(service, known))}${note}`,
  );
}

export interface ResolvedTarget {
  playbook: Playbook;
  environment: Environment;
  target: Target;
}

/** The playbook and environment that `service [to environment]` names, or what is wrong with it. */
export async function resolveTarget(
  deps: UseCaseDeps,
  service: string,
  environmentName: string | undefined,
): Promise<ResolvedTarget | Refusal> {
  const playbook = await findPlaybook(deps, service);
  if ('ok' in playbook) return playbook;
  const environment = chooseEnvironment(playbook, environmentName);
  if (typeof environment === 'string')
    return refusal(
      environmentName === undefined ? 'no_environment' : 'unknown_environment',
      escape(environment),
    );
  return { playbook, environment, target: { service, environment: environment.name } };
}

type RefusedAction = {
  [A in keyof AuditDetails]: AuditDetails[A] extends { why: string } ? A : never;
}[keyof AuditDetails];

/**
 * Whether the actor is a deployer of the target; a refusal says who may, and goes to the audit
 * log as `action`. Every use case that changes a target asks this once, at its entry.
 */
export async function refuseUnlessDeployer(
  deps: UseCaseDeps,
  actor: Actor,
  resolved: ResolvedTarget,
  action: RefusedAction,
  detail: Omit<AuditDetails[RefusedAction], 'why'> = {},
): Promise<Refusal | undefined> {
  const allowed = canDeploy(resolved.target.service, resolved.environment, actor);
  if (allowed.allowed) return undefined;
  await deps.audit.append(
    auditEntry(action, {
      at: deps.clock.now(),
      actor: actor.userId,
      target: resolved.target,
      detail: { why: 'not_deployer', ...detail },
    }),
  );
  return refusal('not_deployer', allowed.reason);
}

/** Writes a refusal to the audit log, with its code as the reason. */
export async function auditRefusal(
  deps: UseCaseDeps,
  actor: Actor,
  action: RefusedAction,
  target: Target | undefined,
  refused: Refusal,
  detail: Omit<AuditDetails[RefusedAction], 'why'> = {},
): Promise<Refusal> {
  await deps.audit.append(
    auditEntry(action, {
      at: deps.clock.now(),
      actor: actor.userId,
      ...(target === undefined ? {} : { target }),
      detail: { why: refused.code, ...detail },
    }),
  );
  return refused;
}
