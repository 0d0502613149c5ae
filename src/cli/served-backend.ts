import {
  answerWithin,
  CommandSocketConnection,
  CommandSocketLostError,
  HELLO_MS,
  RemoteCallError,
} from '../adapters/embedded/command-socket-client.js';
import { ALLOWED_CALLS, type PortName } from '../adapters/embedded/command-socket-protocol.js';
import {
  serveCommandSocket,
  type CommandSocketServer,
  type ConnectionPorts,
} from '../adapters/embedded/command-socket-server.js';
import { releasable, type BlockingRollouts, type RolloutStore } from '../app/store-ports.js';
import { commandSocketPlace, notPrivate, preparePlace } from '../config/command-socket-place.js';
import type { Config } from '../config/env.js';
import type { Backend } from '../main.js';

type ServedConfig = Pick<Config, 'REDIS_URL' | 'BATON_REDIS_PREFIX' | 'BATON_DATA_DIR'>;

/**
 * How long the process answering a command may take to answer a call (past a blocking read's own
 * wait) before it is taken for gone. On Redis the command then goes on with Redis directly (the
 * worker's own attempts at a Redis that does not answer take longer; the command then waits on
 * Redis itself, saying so); on the embedded backend it ends, saying so.
 */
export const WORKER_SILENT_MS = 10_000;

/**
 * Calls that change nothing: after the process answering a command on Redis went away, these are
 * asked again of Redis directly. A call that may change something is not (it may or may not have
 * been done): it fails, saying so.
 */
const READS: Partial<Record<PortName, readonly string[]>> = {
  locks: ['get'],
  rollouts: ['load', 'read', 'cancelRequestedBy', 'gateAnswer'],
  history: ['recorded', 'list'],
  audit: ['recent'],
  requests: ['approval', 'pending', 'unlaunched'],
  schedules: ['get', 'open'],
  outbox: ['get', 'unsettled'],
  queue: ['state', 'depth', 'failed'],
};

/**
 * The backend through a process that runs rollouts on it and answers on its command socket (see
 * CommandSocketPlace); undefined when none answers. On the embedded backend that is the process
 * holding the database (this process may open it itself otherwise: the directory's lock still
 * refuses it while a holder lives). On Redis it is a `baton worker` or `baton start` on this
 * machine with the same REDIS_URL and prefix; if it goes away mid-command, `direct` opens Redis
 * here and the command goes on (see READS).
 */
export async function servedBackend(
  config: ServedConfig,
  direct: () => Promise<Backend>,
  say: (message: string) => void,
  silentMs = WORKER_SILENT_MS,
): Promise<Backend | undefined> {
  const place = commandSocketPlace(config);
  if (place.private && (await notPrivate(place.dir)) !== undefined) return undefined;
  const connection = await CommandSocketConnection.connect(
    place.dir,
    HELLO_MS,
    place.private ? place.backend : undefined,
  );
  if (connection === undefined) return undefined;
  const { pid, command } = connection.server;
  const servedBy = `baton process ${pid} (${command})`;
  if (config.REDIS_URL !== undefined)
    return failingOver(connection, servedBy, direct, silentMs, say);
  const dir = place.dir;
  // Nothing to go on with there: a holder that stops answering (SIGSTOP) ends the command, saying
  // so, rather than hold it (and its Ctrl-C) for ever.
  const ports = everyPort((name) => connection.port(name, silentMs));
  const noWorker = () => {
    throw new Error(
      `${servedBy} holds ${dir} and runs its rollouts; a second worker cannot run on it. Stop that process first, or set REDIS_URL so that several workers share state.`,
    );
  };
  return {
    description: `the embedded database in ${dir}, through ${servedBy}`,
    servedBy,
    ...ports,
    work: { work: noWorker, workSchedules: noWorker },
    // Each call has its own answer on the connection: a long poll holds up nothing else.
    blocking: () => releasable(ports.rollouts, () => {}),
    readiness: {
      name: 'embedded database',
      check: async () => connection.isOpen() || `${servedBy} no longer answers`,
    },
    close: () => connection.close(),
  };
}

/** The backend's stores and queue, each made by `port` from its name. */
function everyPort(port: (name: PortName) => object): Pick<Backend, PortName> {
  const names = Object.keys(ALLOWED_CALLS) as PortName[];
  return Object.fromEntries(names.map((name) => [name, port(name)])) as Pick<Backend, PortName>;
}

/** Redis through the worker's socket, and through a connection of this process once it is gone. */
function failingOver(
  connection: CommandSocketConnection,
  servedBy: string,
  openDirect: () => Promise<Backend>,
  silentMs: number,
  say: (message: string) => void,
): Backend {
  let closed = false;
  const noWorker = () => {
    throw new Error(`${servedBy} answers this command: a worker cannot run through it`);
  };
  let direct: Promise<Backend> | undefined;
  const switched = (why: string) => {
    if (closed) throw new Error(`${why}, after this command closed its backend`);
    if (direct === undefined) {
      say(`${servedBy}, which answered this command, ${why}; going on with Redis directly.`);
      direct = openDirect();
    }
    return direct;
  };
  const port = <P>(name: PortName, through: (backend: Backend) => object = (b) => b[name]): P =>
    Object.fromEntries(
      ALLOWED_CALLS[name].map((method) => [
        method,
        async (...args: unknown[]) => {
          const call = (backend: Backend) => {
            const target = through(backend) as Record<string, (...a: unknown[]) => unknown>;
            return (target[method] as (...a: unknown[]) => unknown).apply(target, args);
          };
          // Closed by this command: whatever is still asked after is not taken for a loss.
          if (closed) throw new Error(`${name}.${method} after this command closed its backend`);
          if (direct === undefined && connection.isOpen()) {
            try {
              return await connection.call(
                name,
                method,
                args,
                answerWithin(silentMs, method, args),
              );
            } catch (error) {
              // Closed by this command while the call was on its way: nothing more is asked.
              if (closed) throw error;
              // Refused before it ran (a worker of another release that does not offer it).
              if (error instanceof RemoteCallError && error.name === 'CommandSocketRefusal')
                return call(await switched(`does not offer ${name}.${method}`));
              if (!(error instanceof CommandSocketLostError)) throw error;
              // Lost on its way: it may or may not have been done there, so only a read is asked
              // again. A call made once the loss is known was never sent, and goes to Redis.
              if (READS[name]?.includes(method) !== true) throw error;
            }
          }
          return call(await switched('stopped answering'));
        },
      ]),
    ) as P;
  return {
    description: `Redis, through ${servedBy}`,
    ...everyPort((name) => port(name)),
    work: { work: noWorker, workSchedules: noWorker },
    blocking() {
      // Once on Redis directly, blocking reads need a connection of their own, as here without
      // a worker; through the socket, the worker holds one for this command.
      let own: BlockingRollouts | undefined;
      const store = port<RolloutStore>('rollouts', (backend) => (own ??= backend.blocking()));
      return releasable(store, () => own?.release());
    },
    readiness: {
      name: 'redis',
      check: async () => connection.isOpen() || `${servedBy} no longer answers`,
    },
    async close() {
      closed = true;
      await connection.close();
      // One that could not be opened has nothing to close (its failure was the calls' answer).
      await direct?.then(
        (backend) => backend.close(),
        () => undefined,
      );
    },
  };
}

/**
 * For a process that runs rollouts: answers the terminal's commands on its backend's command
 * socket until closed (see CommandSocketPlace). On Redis, each connection that follows a rollout
 * has a Redis connection of its own for its blocking reads, let go when it closes.
 */
export async function serveTerminalCommands(
  config: ServedConfig,
  backend: Backend,
  command: string,
  warn: (message: string) => void,
): Promise<CommandSocketServer | undefined> {
  const place = commandSocketPlace(config);
  const unfit = await preparePlace(place);
  if (unfit !== undefined) {
    warn(
      `terminal commands are not answered by this process (they reach Redis themselves): ${unfit}`,
    );
    return undefined;
  }
  const ports =
    config.REDIS_URL === undefined ? backend : (): ConnectionPorts => followingPorts(backend);
  return serveCommandSocket(place.dir, ports, {
    command,
    warn,
    backend: place.backend,
    ...(place.private ? { without: 'they reach Redis themselves' } : {}),
  });
}

/** The backend's ports for one connection: its blocking reads on a Redis connection of its own. */
function followingPorts(backend: Backend): ConnectionPorts {
  let reader: BlockingRollouts | undefined;
  const rollouts: RolloutStore = Object.create(backend.rollouts) as RolloutStore;
  rollouts.read = (id, cursor, blockMs) =>
    blockMs > 0
      ? (reader ??= backend.blocking()).read(id, cursor, blockMs)
      : backend.rollouts.read(id, cursor, blockMs);
  return { ports: { ...backend, rollouts }, release: () => reader?.release() };
}
