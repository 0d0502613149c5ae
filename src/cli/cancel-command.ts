import type { Config } from '../config/env.js';
import { useBackend } from './backend.js';
import { terminalActor } from './deploy-queued.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { loadTarget } from './target-args.js';

/** `baton cancel <service>`: asks the rollout running there to stop after its current step. */
export async function cancelCommand(
  service: string,
  options: { env?: string; playbooks: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  const loaded = await loadTarget(service, options, io);
  if (loaded === undefined) return EXIT.badInput;
  const { playbook, target } = loaded;
  return useBackend(config, io, 'baton cancel', async (backend) => {
    const holder = await backend.locks.get(target);
    if (holder?.rollout === undefined) {
      io.stderr(`baton: no rollout of ${service} is running in ${target.environment}.\n`);
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
      `Cancel requested for ${service} in ${target.environment} (rollout ${holder.rollout}, started by ${holder.owner}): it stops after the current step, then applies ${playbook.onFailure}.\n`,
    );
    return EXIT.ok;
  });
}
