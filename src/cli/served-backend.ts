import { CommandSocketConnection } from '../adapters/embedded/command-socket-client.js';
import {
  serveCommandSocket,
  type CommandSocketServer,
} from '../adapters/embedded/command-socket-server.js';
import type { RolloutStore } from '../app/store-ports.js';
import type { Config } from '../config/env.js';
import { embeddedDataDir } from '../config/data-dir.js';
import type { Backend } from '../main.js';

/**
 * The embedded backend through the process that holds it (a `baton start` or `baton worker`),
 * when one answers on the data directory's socket; undefined when none does, and this process
 * may open the database itself (the directory's lock still refuses it while a holder lives).
 */
export async function servedBackend(
  config: Pick<Config, 'BATON_DATA_DIR'>,
): Promise<Backend | undefined> {
  const dir = embeddedDataDir(config);
  const connection = await CommandSocketConnection.connect(dir);
  if (connection === undefined) return undefined;
  const { pid, command } = connection.server;
  const servedBy = `baton process ${pid} (${command})`;
  const rollouts = connection.port<RolloutStore>('rollouts');
  const noWorker = () => {
    throw new Error(
      `${servedBy} holds ${dir} and runs its rollouts; a second worker cannot run on it. Stop that process first, or set REDIS_URL so that several workers share state.`,
    );
  };
  return {
    description: `the embedded database in ${dir}, through ${servedBy}`,
    servedBy,
    locks: connection.port('locks'),
    rollouts,
    history: connection.port('history'),
    audit: connection.port('audit'),
    requests: connection.port('requests'),
    schedules: connection.port('schedules'),
    outbox: connection.port('outbox'),
    queue: connection.port('queue'),
    work: { work: noWorker, workSchedules: noWorker },
    // Each call has its own answer on the connection: a long poll holds up nothing else.
    blocking: () => rollouts,
    readiness: {
      name: 'embedded database',
      check: async () => connection.isOpen() || `${servedBy} no longer answers`,
    },
    close: () => connection.close(),
  };
}

/**
 * For a process that holds the embedded database to serve: answers the terminal's commands on
 * the data directory's socket until closed. Nothing to do on Redis.
 */
export function serveTerminalCommands(
  config: Pick<Config, 'REDIS_URL' | 'BATON_DATA_DIR'>,
  backend: Backend,
  command: string,
  warn: (message: string) => void,
): Promise<CommandSocketServer | undefined> {
  if (config.REDIS_URL !== undefined) return Promise.resolve(undefined);
  return serveCommandSocket(embeddedDataDir(config), backend, { command, warn });
}
