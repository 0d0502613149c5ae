import { join, resolve } from 'node:path';
import { systemClock } from '../adapters/clock/system-clock.js';
import { LocalExecutor } from '../adapters/local/local-executor.js';
import { DataDirBusyError } from '../adapters/embedded/data-dir-lock.js';
import { runningVersion } from '../app/history.js';
import { AFTER_DATA_DIR_LOST } from '../cli/data-dir-lost.js';
import { EXIT } from '../cli/exit-codes.js';
import {
  chatFront,
  openEmbeddedBackend,
  playbookSource,
  runWorker,
  useCaseDeps,
  type Backend,
} from '../main.js';
import type { CliIo } from '../cli/io.js';
import type { Config } from '../config/env.js';
import { CONSOLE_HELP, DeployConsole } from './console.js';
import { ConsoleChat } from './console-chat.js';
import { DemoFleet } from './demo-fleet.js';

/** How long leaving waits for steps in flight before the demo hosts are stopped anyway. */
const LEAVE_GRACE_MS = 5000;

/**
 * `baton start` with no Slack tokens: demo hosts on this machine, the same use cases as Slack
 * behind a console, and state in the embedded database under BATON_DATA_DIR/local, so a
 * scheduled rollback or an unfinished rollout is still there at the next start. Leaving stops
 * every demo process.
 */
export async function runLocalMode(
  config: Config,
  io: CliIo,
  /** Where the demo hosts listen (tests use networks of their own, beside a developer's baton). */
  { demoNetwork }: { demoNetwork?: string } = {},
): Promise<number> {
  const lines = io.lines;
  if (lines === undefined) {
    io.stderr('baton: local mode needs a terminal (or input piped in).\n');
    return EXIT.badInput;
  }
  const dataDir = resolve(config.BATON_DATA_DIR, 'local');
  io.stdout('Opening the embedded database…\n');
  // The demo hosts boot while the database opens; they are told their version once its history
  // is read.
  let fleet: DemoFleet;
  try {
    fleet = DemoFleet.spawn(dataDir, { network: demoNetwork });
  } catch (error) {
    io.stderr(`baton: ${(error as Error).message}\n`);
    return EXIT.cannotConnect;
  }
  try {
    let backend: Backend;
    try {
      backend = await openEmbeddedBackend(join(dataDir, 'db'), {
        command: 'baton start (local mode)',
        creating: () => io.stdout('This first start creates it: a few seconds…\n'),
      });
    } catch (error) {
      io.stderr(`baton: ${(error as Error).message}\n`);
      return error instanceof DataDirBusyError ? EXIT.locked : EXIT.failed;
    }
    try {
      return await runConsole(backend, fleet, config, io, lines);
    } finally {
      await backend.close();
    }
  } finally {
    // Already done when the console ran; this is for every way out before it.
    await fleet.stop();
  }
}

async function runConsole(
  backend: Backend,
  fleet: DemoFleet,
  config: Config,
  io: CliIo,
  lines: NonNullable<CliIo['lines']>,
): Promise<number> {
  const bold = io.interactive === true ? (text: string) => `\u001b[1m${text}\u001b[22m` : undefined;
  const say = (text: string) => io.stdout(`${text}\n`);
  const warn = (message: string) => io.stderr(`baton: ${message}\n`);
  // The demo hosts come back on the version the history says runs there, so state and hosts agree.
  const running =
    runningVersion(
      await backend.history.list({ service: 'demo', environment: 'production' }, 50),
    ) ?? 'v1';
  say(`Starting six demo hosts on this machine (running ${running})…`);
  try {
    await fleet.run(running);
  } catch (error) {
    io.stderr(`baton: ${(error as Error).message}\n`);
    return EXIT.cannotConnect;
  }
  say(`State and queue: ${backend.description}.`);
  const playbooks = playbookSource(fleet.playbooksDir);
  const worker = runWorker(backend, {
    executor: new LocalExecutor(),
    playbooks,
    name: 'local',
    timeZone: config.BATON_TIMEZONE,
    warn,
  });
  await worker.consumer.waitUntilReady();
  // The console reads the buttons the chat shows; it exists once the chat does.
  const consoleRef: { current?: DeployConsole } = {};
  const chat = new ConsoleChat(
    say,
    (ref, message) => consoleRef.current?.offer(ref, message),
    bold,
  );
  const deps = useCaseDeps(backend, {
    playbooks,
    clock: systemClock,
    timeZone: config.BATON_TIMEZONE,
  });
  const { front, view } = chatFront(deps, chat, { owner: 'local', warn });
  const deployConsole = new DeployConsole(front, say);
  consoleRef.current = deployConsole;
  view.start();
  say(`${CONSOLE_HELP}\n\nThe demo playbook: ${fleet.playbooksDir}/demo.yml\n`);
  let interrupted = false;
  let lost = false;
  const input = lines('baton> ');
  const release = io.onInterrupt?.(() => {
    interrupted = true;
    say('\nLeaving…');
    input.close();
  });
  // Its database is in a directory that can be removed under it: then it leaves, saying why,
  // rather than go on storing where nobody can see it.
  void backend.lost?.then((why) => {
    if (interrupted) return;
    interrupted = true;
    lost = true;
    say(`\nbaton: ${why}. ${AFTER_DATA_DIR_LOST}`);
    input.close();
  });
  try {
    for await (const line of input.lines) {
      if (!(await deployConsole.line(line))) break;
      if (interrupted) break;
    }
  } finally {
    release?.();
    input.close();
    await view.stop();
    // Rollouts in flight are left where they are; the next start resumes them.
    await worker.stop(LEAVE_GRACE_MS);
    await fleet.stop();
    say('Stopped the demo hosts. Bye.');
  }
  return lost ? EXIT.failed : EXIT.ok;
}
