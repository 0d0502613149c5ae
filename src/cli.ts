import { CommandSocketLostError } from './adapters/embedded/command-socket-client.js';
import { DataDirBusyError } from './adapters/embedded/data-dir-busy.js';
import { Command, CommanderError } from 'commander';
import { EXIT } from './cli/exit-codes.js';
import type { CliIo } from './cli/io.js';
import type { DeployOptions } from './cli/deploy-terminal.js';
import type { RollbackOptions } from './cli/rollback-command.js';
import { loadConfig } from './config/env.js';
import { registerSecrets } from './adapters/log/redact.js';
import { configuredSecrets, redactedIo } from './cli/redacted-io.js';

export type { CliIo } from './cli/io.js';

/**
 * Each command's code is loaded when that command runs: `baton deploy` need not load the Slack
 * app, nor `baton status` the worker, and every command starts that much sooner.
 */
const modules = {
  validate: () => import('./cli/validate-command.js'),
  playbooks: () => import('./core/playbook/index.js'),
  plan: () => import('./cli/plan-command.js'),
  deploy: () => import('./cli/deploy-command.js'),
  rollback: () => import('./cli/rollback-command.js'),
  state: () => import('./cli/state-commands.js'),
  worker: () => import('./cli/worker-command.js'),
  serve: () => import('./cli/serve-command.js'),
  localMode: () => import('./local/local-mode.js'),
  cancel: () => import('./cli/cancel-command.js'),
};

/** Runs `baton <args>` and returns its exit status; never calls process.exit itself. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const loaded = loadConfig(io.env);
  if (!loaded.ok) {
    io.stderr(
      `baton: the environment is not valid:\n${loaded.problems.map((problem) => `  ${problem}\n`).join('')}`,
    );
    return EXIT.badInput;
  }
  const { config } = loaded;
  registerSecrets(configuredSecrets(config));
  io = redactedIo(io);
  let status: number = EXIT.ok;
  const program = new Command('baton')
    .description('Rolling, health-checked deploys over SSH, driven from Slack or the terminal.')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showSuggestionAfterError()
    .showHelpAfterError('(run baton --help for usage)');

  program
    .command('validate')
    .description('check every playbook in a directory and print every problem')
    .argument('[dir]', 'playbook directory', config.BATON_PLAYBOOKS)
    .option('--strict', 'count warnings (anyone may deploy, anyone may approve) as problems')
    .action(async (directory: string, options: { strict?: boolean }) => {
      status = await (await modules.validate()).validateCommand(directory, options, io);
    });

  program
    .command('schema')
    .description('print the JSON Schema of playbooks (for editors)')
    .action(async () => {
      io.stdout(`${JSON.stringify((await modules.playbooks()).playbookJsonSchema(), null, 2)}\n`);
    });

  const hostsOption = [
    '--hosts <h1,h2>',
    "only these hosts (the playbook's names, addresses or short names), comma-separated",
  ] as const;
  const groupsOption = ['--groups <g1,g2>', 'only these groups, comma-separated'] as const;

  program
    .command('plan')
    .description('show exactly what a deploy would run, where and in what order')
    .argument('<service>')
    .argument('<version>')
    .option('--env <environment>', "environment (default: the playbook's default_environment)")
    .option('--previous <version>', 'the version running now, to show the rollback')
    .option('--json', 'print the plan as JSON')
    .option(...hostsOption)
    .option(...groupsOption)
    .option('--playbooks <dir>', 'playbook directory', config.BATON_PLAYBOOKS)
    .action(
      async (
        service: string,
        version: string,
        options: {
          env?: string;
          previous?: string;
          json?: boolean;
          playbooks: string;
          hosts?: string;
          groups?: string;
        },
      ) => {
        status = await (await modules.plan()).planCommand(service, version, options, io);
      },
    );

  program
    .command('deploy')
    .description('roll a version out over SSH, one group at a time, and follow it to the end')
    .argument('<service>')
    .argument('<version>')
    .option('--env <environment>', "environment (default: the playbook's default_environment)")
    .option(
      '--previous <version>',
      'the version running now: what a failed group is rolled back to',
    )
    .option('--yes', 'answer approval and manual gates with yes')
    .option('--json', 'print one JSON event per line')
    .option('--worker', 'with REDIS_URL: also run a worker in this process')
    .option(
      '--rollback-after <duration>',
      'once healthy, roll back after this long unless someone runs baton keep',
    )
    .option(...hostsOption)
    .option(...groupsOption)
    .option('--playbooks <dir>', 'playbook directory', config.BATON_PLAYBOOKS)
    .action(async (service: string, version: string, options: DeployOptions) => {
      status = await (await modules.deploy()).deployCommand(service, version, options, config, io);
    });

  const playbooksOption = [
    '--playbooks <dir>',
    'playbook directory',
    config.BATON_PLAYBOOKS,
  ] as const;
  const envOption = [
    '--env <environment>',
    "environment (default: the playbook's default_environment)",
  ] as const;

  program
    .command('rollback')
    .description('go back to the previous good version (or the one given), now or later')
    .argument('<service>')
    .argument('[version]')
    .option(...envOption)
    .option('--at <time>', 'run it at this time: 17:00 (BATON_TIMEZONE) or ISO-8601')
    .option('--in <duration>', 'run it after this long, e.g. 30m')
    .option('--previous <version>', 'the version running now')
    .option('--yes', 'answer approval and manual gates with yes')
    .option('--json', 'print one JSON event per line')
    .option('--worker', 'with REDIS_URL: also run a worker in this process')
    .option(...hostsOption)
    .option(...groupsOption)
    .option(...playbooksOption)
    .action(async (service: string, version: string | undefined, options: RollbackOptions) => {
      status = await (
        await modules.rollback()
      ).rollbackCommand(service, version, options, config, io);
    });

  program
    .command('keep')
    .description(
      'keep the version a --rollback-after deploy put in place: cancel its pending rollback',
    )
    .argument('<service>')
    .option(...envOption)
    .option(...playbooksOption)
    .action(async (service: string, options: { env?: string; playbooks: string }) => {
      status = await (await modules.state()).keepCommand(service, options, config, io);
    });

  program
    .command('schedules')
    .description('list scheduled rollbacks, or cancel one')
    .option('--cancel <id>', 'cancel this scheduled rollback')
    .option(...playbooksOption)
    .action(async (options: { cancel?: string; playbooks: string }) => {
      status = await (await modules.state()).schedulesCommand(options, config, io);
    });

  program
    .command('status')
    .description('what runs where, and what is rolling out or locked')
    .argument('[service]')
    .option(...playbooksOption)
    .action(async (service: string | undefined, options: { playbooks: string }) => {
      status = await (await modules.state()).statusCommand(service, options, config, io);
    });

  program
    .command('history')
    .description('rollouts of a service, newest first')
    .argument('<service>')
    .option(...envOption)
    .option('--limit <n>', 'how many', '20')
    .option(...playbooksOption)
    .action(
      async (service: string, options: { env?: string; playbooks: string; limit: string }) => {
        status = await (await modules.state()).historyCommand(service, options, config, io);
      },
    );

  program
    .command('lock')
    .description('stop anyone deploying a service until it is unlocked')
    .argument('<service>')
    .argument('[reason...]')
    .option(...envOption)
    .option('--for <duration>', 'the lock lapses after this long', '4h')
    .option(...playbooksOption)
    .action(
      async (
        service: string,
        reason: string[],
        options: { env?: string; playbooks: string; for: string },
      ) => {
        status = await (await modules.state()).lockCommand(service, reason, options, config, io);
      },
    );

  program
    .command('unlock')
    .description("release a lock (someone else's only with --force, which is audited)")
    .argument('<service>')
    .option(...envOption)
    .option('--force', "take away someone else's lock")
    .option(...playbooksOption)
    .action(
      async (service: string, options: { env?: string; playbooks: string; force?: boolean }) => {
        status = await (await modules.state()).unlockCommand(service, options, config, io);
      },
    );

  program
    .command('worker')
    .description('take rollout jobs from Redis (REDIS_URL) and run them, until stopped')
    .option('--grace <duration>', 'on SIGTERM, how long steps in flight may take to finish', '30s')
    .action(async (options: { grace: string }) => {
      status = await (await modules.worker()).workerCommand(options, config, io);
    });

  program
    .command('serve')
    .description('run the Slack app (SLACK_BOT_TOKEN, REDIS_URL); rollouts run on workers')
    .option('--grace <duration>', 'on SIGTERM, how long steps in flight may take to finish', '30s')
    .action(async (options: { grace: string }) => {
      status = await (
        await modules.serve()
      ).serveCommand({ ...options, worker: false }, config, io);
    });

  program
    .command('start')
    .description(
      'run the Slack app and a worker in one process; with no Slack token, local mode: demo hosts and a console',
    )
    .option('--local', 'local mode even when Slack tokens are set')
    .option('--grace <duration>', 'on SIGTERM, how long steps in flight may take to finish', '30s')
    .action(async (options: { grace: string; local?: boolean }) => {
      status =
        options.local === true || config.SLACK_BOT_TOKEN === undefined
          ? await (await modules.localMode()).runLocalMode(config, io)
          : await (
              await modules.serve()
            ).serveCommand({ grace: options.grace, worker: true }, config, io);
    });

  program
    .command('cancel')
    .description(
      'stop the rollout of a service after its current step, then apply its failure policy',
    )
    .argument('<service>')
    .option('--env <environment>', "environment (default: the playbook's default_environment)")
    .option('--playbooks <dir>', 'playbook directory', config.BATON_PLAYBOOKS)
    .action(async (service: string, options: { env?: string; playbooks: string }) => {
      status = await (await modules.cancel()).cancelCommand(service, options, config, io);
    });

  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (error instanceof DataDirBusyError) {
      io.stderr(`baton: ${error.message}\n`);
      return EXIT.locked;
    }
    // Said plainly, with the status a store failure ends a command with.
    if (error instanceof CommandSocketLostError) {
      io.stderr(`baton: ${error.message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
  return status;
}
