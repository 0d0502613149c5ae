import { randomUUID } from 'node:crypto';
import { systemClock } from '../adapters/clock/system-clock.js';
import { NetworkHealthProbe } from '../adapters/health/network-health-probe.js';
import { SshExecutor } from '../adapters/ssh/ssh-executor.js';
import { preflight } from '../app/preflight.js';
import { RolloutRun, type GateAnswer } from '../app/run-rollout.js';
import type { Config } from '../config/env.js';
import type { RolloutState } from '../core/rollout/index.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';
import { loadPlan, type PlanArguments } from './load-playbook.js';
import { jsonReporter, plainReporter, ttyReporter, type Reporter } from './progress/reporters.js';

export interface DeployOptions extends PlanArguments {
  yes?: boolean;
  json?: boolean;
}

const OUTCOME_EXIT: Record<RolloutState['status'], number> = {
  succeeded: EXIT.ok,
  rolled_back: EXIT.rolledBack,
  halted: EXIT.rolledBack,
  rollback_failed: EXIT.needsPerson,
  running: EXIT.needsPerson,
  awaiting_gate: EXIT.needsPerson,
  draining: EXIT.needsPerson,
  rolling_back: EXIT.needsPerson,
};

function reporterFor(options: DeployOptions, io: CliIo): Reporter {
  if (options.json === true) return jsonReporter(io.stdout, io.worker ?? 'baton');
  return io.interactive === true ? ttyReporter(io.stdout, io.now) : plainReporter(io.stdout);
}

async function confirm(io: CliIo, question: string): Promise<boolean> {
  if (io.ask === undefined) return false;
  return /^y(es)?$/i.test((await io.ask(`${question} [y/N] `)).trim());
}

function gateKeeper(options: DeployOptions, io: CliIo) {
  return async (group: string): Promise<GateAnswer> => {
    if (options.yes === true) return { continue: true, by: 'terminal (--yes)' };
    if (io.interactive !== true || io.ask === undefined) {
      io.stderr(
        `baton: ${group} waits for Continue, and there is no terminal to ask: stopping. Pass --yes to continue past gates.\n`,
      );
      return { continue: false, by: 'terminal (no one to ask)' };
    }
    const go = await confirm(io, `${group} is healthy. Continue to the next group?`);
    return { continue: go, by: 'terminal' };
  };
}

/** `baton deploy`: a real rolling deploy from this terminal, followed to the end. */
export async function deployCommand(
  service: string,
  version: string,
  options: DeployOptions,
  config: Config,
  io: CliIo,
): Promise<number> {
  const loaded = await loadPlan(service, version, options, io);
  if (loaded === undefined) return EXIT.badInput;
  const { playbook, plan } = loaded;
  if (config.BATON_KNOWN_HOSTS === undefined) {
    io.stderr(
      'baton: set BATON_KNOWN_HOSTS to an OpenSSH known_hosts file: baton verifies every host key and has no way to skip it.\n',
    );
    return EXIT.badInput;
  }
  const environment = playbook.environments.find(
    (candidate) => candidate.name === plan.environment,
  );
  if (environment?.approval.required === true && options.yes !== true) {
    if (io.interactive !== true) {
      io.stderr(
        `baton: ${plan.environment} requires approval; confirm at a terminal, or pass --yes.\n`,
      );
      return EXIT.badInput;
    }
    if (
      !(await confirm(
        io,
        `${plan.environment} requires approval. Deploy ${service} ${version} there now?`,
      ))
    ) {
      io.stderr('baton: not deployed.\n');
      return EXIT.badInput;
    }
  }

  const executor = new SshExecutor({
    knownHostsPath: config.BATON_KNOWN_HOSTS,
    ...(config.BATON_SSH_KEY === undefined ? {} : { privateKeyPath: config.BATON_SSH_KEY }),
    ...(io.env.SSH_AUTH_SOCK === undefined ? {} : { agentSocket: io.env.SSH_AUTH_SOCK }),
  });
  try {
    const unreachable = await preflight(plan, executor);
    if (unreachable.length > 0) {
      for (const failure of unreachable) io.stderr(`baton: ${failure.message}\n`);
      io.stderr(
        `baton: ${unreachable.length} host${unreachable.length === 1 ? '' : 's'} cannot be used; nothing was changed on any host.\n`,
      );
      return EXIT.cannotConnect;
    }
    const run = RolloutRun.start(plan, randomUUID(), {
      executor,
      health: new NetworkHealthProbe(executor),
      clock: systemClock,
      checkpoint: async () => {},
      report: reporterFor(options, io),
      gate: gateKeeper(options, io),
    });
    let interrupts = 0;
    const release = io.onInterrupt?.(() => {
      interrupts += 1;
      if (interrupts === 1) run.cancel('terminal (interrupt)');
      else
        io.stderr(
          'baton: already cancelling; waiting for the steps in flight so no host is left half-done.\n',
        );
    });
    const outcome = await run.run().finally(() => release?.());
    if (outcome.state.status !== 'succeeded' && outcome.connectionFailures.length > 0)
      return EXIT.cannotConnect;
    return OUTCOME_EXIT[outcome.state.status];
  } finally {
    await executor.close();
  }
}
