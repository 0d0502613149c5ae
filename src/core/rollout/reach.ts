import type { Host } from '../playbook/model.js';
import type { PlannedHost } from './plan.js';

/** How a planned host is reached besides its address and port: only what differs from the plan's. */
export function reachOf(host: Host): Pick<PlannedHost, 'user' | 'identityFile' | 'jump'> {
  return {
    ...(host.user === undefined ? {} : { user: host.user }),
    ...(host.identityFile === undefined ? {} : { identityFile: host.identityFile }),
    ...(host.jump === undefined || host.jump.length === 0 ? {} : { jump: host.jump }),
  };
}
