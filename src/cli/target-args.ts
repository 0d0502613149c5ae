import type { Target } from '../app/store-ports.js';
import type { Playbook } from '../core/playbook/index.js';
import { chooseEnvironment } from '../core/rollout/index.js';
import { KNOWN_HOSTS_REQUIRED } from '../main/use-case-deps.js';
import type { CliIo } from './io.js';
import { loadServicePlaybook } from './load-playbook.js';

/** `<service> [--env E]` from the command line: the playbook and the target, or undefined after saying why. */
export async function loadTarget(
  service: string,
  options: { env?: string; playbooks: string },
  io: CliIo,
): Promise<{ playbook: Playbook; target: Target } | undefined> {
  const playbook = await loadServicePlaybook(service, options.playbooks, io);
  if (playbook === undefined) return undefined;
  const environment = chooseEnvironment(playbook, options.env);
  if (typeof environment === 'string') {
    io.stderr(`baton: ${environment}\n`);
    return undefined;
  }
  return { playbook, target: { service, environment: environment.name } };
}

/** SSH needs a known_hosts file: say so and return false when there is none. */
export function needKnownHosts(
  config: { BATON_KNOWN_HOSTS?: string | undefined },
  io: CliIo,
): boolean {
  if (config.BATON_KNOWN_HOSTS !== undefined) return true;
  io.stderr(`baton: ${KNOWN_HOSTS_REQUIRED}\n`);
  return false;
}
