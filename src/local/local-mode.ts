import { resolve } from 'node:path';
import { systemClock } from '../adapters/clock/system-clock.js';
import { LocalExecutor } from '../adapters/local/local-executor.js';
import { InMemoryChatOpsStore } from '../adapters/memory/memory-chatops-store.js';
import { InMemoryQueue } from '../adapters/memory/memory-queue.js';
import {
  InMemoryHistory,
  InMemoryLockStore,
  InMemoryRolloutStore,
} from '../adapters/memory/memory-stores.js';
import { cachedPlaybookDirectory } from '../adapters/playbooks/playbook-directory.js';
import { RolloutReporter } from '../app/chatops/rollout-reporter.js';
import { processRolloutJob } from '../app/process-rollout-job.js';
import { chatOpsDeps, fireWith, workerDeps, type Stores } from '../main.js';
import type { CliIo } from '../cli/io.js';
import type { Config } from '../config/env.js';
import { CONSOLE_HELP, DeployConsole } from './console.js';
import { ConsoleChat } from './console-chat.js';
import { DemoFleet } from './demo-fleet.js';

/** How long leaving waits for steps in flight before the demo hosts are stopped anyway. */
const LEAVE_GRACE_MS = 5000;

/**
 * `baton start` with no Slack tokens: demo hosts on this machine, the same use cases as Slack
 * behind a console, and state kept in this process. Leaving stops every demo process.
 */
export async function runLocalMode(config: Config, io: CliIo): Promise<number> {
  const lines = io.lines;
  if (lines === undefined) {
    io.stderr('baton: local mode needs a terminal (or input piped in).\n');
    return 2;
  }
  const bold = io.interactive === true ? (text: string) => `\u001b[1m${text}\u001b[22m` : undefined;
  const say = (text: string) => io.stdout(`${text}\n`);
  const warn = (message: string) => io.stderr(`baton: ${message}\n`);
  say('Starting six demo hosts on this machine…');
  const fleet = await DemoFleet.start(resolve('.data', 'local')).catch((error: unknown) => {
    io.stderr(`baton: ${(error as Error).message}\n`);
    return undefined;
  });
  if (fleet === undefined) return 4;
  const clock = systemClock;
  const history = new InMemoryHistory();
  const queue = new InMemoryQueue(warn);
  const stores: Stores = {
    locks: new InMemoryLockStore(clock),
    rollouts: new InMemoryRolloutStore(),
    history,
    audit: history,
    chatops: new InMemoryChatOpsStore(clock),
    queue,
  };
  const playbooks = cachedPlaybookDirectory(fleet.playbooksDir);
  const worker = workerDeps(stores, new LocalExecutor(), 'local', warn);
  queue.work(
    async (job) => void (await processRolloutJob(job, worker)),
    fireWith(stores, 'local', async (service) => (await playbooks()).playbooks.get(service)),
  );
  // The console reads the buttons the chat shows; it exists once the chat does.
  const consoleRef: { current?: DeployConsole } = {};
  const chat = new ConsoleChat(
    say,
    (ref, message) => consoleRef.current?.offer(ref, message),
    bold,
  );
  const deps = chatOpsDeps(stores, { chat, directory: { groupsOf: async () => [] } }, playbooks, {
    clock,
    timeZone: config.BATON_TIMEZONE,
    warn,
  });
  const deployConsole = new DeployConsole(deps, say);
  consoleRef.current = deployConsole;
  const reporter = new RolloutReporter(deps, 'local');
  reporter.start();
  say(`${CONSOLE_HELP}\n\nThe demo playbook: ${fleet.playbooksDir}/demo.yml\n`);
  let interrupted = false;
  const input = lines('baton> ');
  const release = io.onInterrupt?.(() => {
    interrupted = true;
    say('\nLeaving…');
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
    for (const run of worker.active) run.suspend();
    await Promise.race([
      Promise.all([...worker.active].map((run) => run.settled())),
      new Promise((done) => setTimeout(done, LEAVE_GRACE_MS).unref()),
    ]);
    await reporter.stop();
    await Promise.race([
      queue.close(),
      new Promise((done) => setTimeout(done, LEAVE_GRACE_MS).unref()),
    ]);
    await fleet.stop();
    say('Stopped the demo hosts. Bye.');
  }
  return 0;
}
