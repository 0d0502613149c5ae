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
import type { Target } from '../store-ports.js';
import type { ChatOpsDeps } from './deps.js';

/** Who the person is, for the playbook's deployer and approver lists. */
export async function actorOf(deps: ChatOpsDeps, user: string): Promise<Actor> {
  return { userId: user, groups: await deps.directory.groupsOf(user) };
}

/** The playbook of a service, or a refusal that lists the services there are. */
export async function findPlaybook(deps: ChatOpsDeps, service: string): Promise<Playbook | string> {
  const { playbooks, problems, unusable } = await deps.playbooks.load();
  const playbook = playbooks.get(service);
  if (playbook !== undefined) return playbook;
  const unusableFile = unusable.get(service);
  if (unusableFile !== undefined) return escape(unusablePlaybookMessage(unusableFile));
  const known = [...playbooks.keys()];
  const verb = closest(service, VERBS);
  if (verb !== undefined && !known.includes(service))
    return `There is no playbook for \`${escape(service)}\`. Did you mean \`/deploy ${verb} …\`? \`/deploy help\` lists the commands.`;
  const broken = problems > 0 ? ' Some playbooks have problems: run `baton validate`.' : '';
  return known.length === 0
    ? `There is no valid playbook for \`${escape(service)}\`.${broken}`
    : `There is no playbook for \`${escape(service)}\`. Services: ${known.join(', ')}.${escape(didYouMean(service, known))}${broken}`;
}

export interface ResolvedTarget {
  playbook: Playbook;
  environment: Environment;
  target: Target;
}

/** The playbook and environment that `service [to environment]` names, or what is wrong with it. */
export async function resolveTarget(
  deps: ChatOpsDeps,
  service: string,
  environmentName: string | undefined,
): Promise<ResolvedTarget | string> {
  const playbook = await findPlaybook(deps, service);
  if (typeof playbook === 'string') return playbook;
  const environment = chooseEnvironment(playbook, environmentName);
  if (typeof environment === 'string') return environment;
  return { playbook, environment, target: { service, environment: environment.name } };
}

/**
 * As resolveTarget, for someone the playbook lets deploy there: anyone else is told who may, and
 * the attempt goes to the audit log as `refused.action`.
 */
export async function deployerTarget(
  deps: ChatOpsDeps,
  service: string,
  environmentName: string | undefined,
  user: string,
  refused: { action: string; detail?: Record<string, unknown> },
): Promise<ResolvedTarget | string> {
  const resolved = await resolveTarget(deps, service, environmentName);
  if (typeof resolved === 'string') return resolved;
  const allowed = canDeploy(service, resolved.environment, await actorOf(deps, user));
  if (allowed.allowed) return resolved;
  await deps.audit.append({
    at: deps.clock.now(),
    actor: user,
    action: refused.action,
    target: resolved.target,
    detail: { why: 'not a deployer', ...refused.detail },
  });
  return allowed.reason;
}
