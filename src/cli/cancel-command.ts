import { cancelRollout } from '../app/use-cases/rollout-controls.js';
import type { Config } from '../config/env.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { operator, plain, refused, withUseCases } from './operator.js';

/** `baton cancel <service>`: asks the rollout running there to stop after its current step. */
export function cancelCommand(
  service: string,
  options: { env?: string; playbooks: string },
  config: Config,
  io: CliIo,
): Promise<number> {
  return withUseCases(config, io, 'baton cancel', options.playbooks, async (deps) => {
    const done = await cancelRollout(deps, operator(), {
      service,
      ...(options.env === undefined ? {} : { environment: options.env }),
    });
    if (!done.ok) return refused(io, done);
    io.stdout(
      `${plain(done.message)} (rollout ${done.rollout}${done.heldBy === undefined ? '' : `, started by ${done.heldBy}`})\n`,
    );
    return EXIT.ok;
  });
}
