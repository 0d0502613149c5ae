import { redisSettings } from './redis-settings.js';
import type { Config } from '../config/env.js';
import { withRedis } from '../main.js';
import { terminalActor } from './deploy-queued.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { loadServicePlaybook } from './load-playbook.js';
import { chooseEnvironment } from '../core/rollout/index.js';

/** `baton cancel <service>`: asks the rollout running there to stop after its current step. */
export async function cancelCommand(
  service: string,
  options: { env?: string; playbooks: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  if (config.REDIS_URL === undefined) {
    io.stderr(
      'baton: cancel reaches rollouts through Redis: set REDIS_URL. A deploy running in a terminal stops with Ctrl-C.\n',
    );
    return EXIT.badInput;
  }
  const playbook = await loadServicePlaybook(service, options.playbooks, io);
  if (playbook === undefined) return EXIT.badInput;
  const environment = chooseEnvironment(playbook, options.env);
  if (typeof environment === 'string') {
    io.stderr(`baton: ${environment}\n`);
    return EXIT.badInput;
  }
  const target = { service, environment: environment.name };
  return withRedis(redisSettings(config, io), async (backend) => {
    const holder = await backend.locks.get(target);
    if (holder?.rollout === undefined) {
      io.stderr(`baton: no rollout of ${service} is running in ${environment.name}.\n`);
      return EXIT.badInput;
    }
    const by = terminalActor();
    await backend.rollouts.requestCancel(holder.rollout, by);
    await backend.audit.append({
      at: io.now(),
      actor: by,
      action: 'rollout.cancel_requested',
      target,
      detail: { rollout: holder.rollout },
    });
    io.stdout(
      `Cancel requested for ${service} in ${environment.name} (rollout ${holder.rollout}, started by ${holder.owner}): it stops after the current step, then applies ${playbook.onFailure}.\n`,
    );
    return EXIT.ok;
  });
}
