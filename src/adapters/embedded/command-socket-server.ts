import { chmod, rename, rm, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import {
  asCall,
  encodeFrame,
  FrameReader,
  isAllowedCall,
  MAX_FRAME_BYTES,
  commandSocketPath,
  SOCKET_FILE,
  type AnswerFrame,
  type CallFrame,
  type Hello,
  type PortName,
} from './command-socket-protocol.js';

/**
 * Connections open at once, at most: each following terminal holds one (and, on Redis, a Redis
 * connection of the worker's), so a runaway client cannot take the worker's descriptors.
 */
export const MAX_CONNECTIONS = 64;

/** The stores and queue producer that the socket's calls reach, by port name. */
export type ServedPorts = Record<PortName, object>;

/** The ports one connection's calls reach, and what to let go of when it closes. */
export interface ConnectionPorts {
  ports: ServedPorts;
  release?(): void;
}

export interface CommandSocketServer {
  path: string;
  /** Stops answering, drops every connection and removes the socket file. */
  close(): Promise<void>;
}

/**
 * Answers the terminal's store and queue calls on `<dir>/baton.sock` (mode 0600) for as long as
 * this process holds the data directory, or runs a worker on Redis. Must be called with the
 * embedded directory's lock held: any socket file there was left by a holder that died, and is
 * replaced. On Redis, the socket's directory is for one Redis and prefix, and the last worker
 * there to start answers (any of them may: they share the state).
 *
 * Nothing a client sends can stop this process: a frame too large or that does not decode closes
 * that connection, a call that is not offered is answered with a refusal, each with a warning.
 * Undefined (after a warning) when the socket cannot be served; commands are then refused as
 * before.
 */
export async function serveCommandSocket(
  dir: string,
  ports: ServedPorts | (() => ConnectionPorts),
  {
    command,
    warn,
    backend,
    without = 'they are refused while this process runs',
  }: {
    command: string;
    warn: (message: string) => void;
    /** Which state this process answers for, said in the hello (see CommandSocketPlace). */
    backend?: string;
    /** What becomes of terminal commands when the socket cannot be served, for the warning. */
    without?: string;
  },
): Promise<CommandSocketServer | undefined> {
  const path = commandSocketPath(dir);
  if (path === undefined) {
    warn(
      `the path ${dir}/${SOCKET_FILE} is too long for a Unix socket, so terminal commands are not answered by this process (${without}); use a shorter BATON_DATA_DIR or TMPDIR`,
    );
    return undefined;
  }
  const hello: Hello = {
    hello: {
      protocol: 1,
      pid: process.pid,
      command,
      ...(backend === undefined ? {} : { backend }),
    },
  };
  const connections = new Set<Socket>();
  const portsFor = typeof ports === 'function' ? ports : (): ConnectionPorts => ({ ports });
  const server = createServer((socket) => {
    if (connections.size >= MAX_CONNECTIONS) {
      warn(
        `refused a command socket connection: ${MAX_CONNECTIONS} are open already (terminal commands that hold on to them?)`,
      );
      socket.destroy();
      return;
    }
    const served = portsFor();
    connections.add(socket);
    socket.once('close', () => {
      connections.delete(socket);
      served.release?.();
    });
    serveConnection(socket, served.ports, hello, warn);
  });
  // Bound under a name of its own, made private, then renamed over the socket's name (replacing
  // one a killed holder left): nobody can connect before the mode is set.
  const staging = `${path}.${process.pid}`;
  let bound: number;
  try {
    await rm(staging, { force: true });
    await listen(server, staging);
    await chmod(staging, 0o600);
    bound = (await stat(staging)).ino;
    await rename(staging, path);
  } catch (error) {
    server.close();
    await rm(staging, { force: true }).catch(() => undefined);
    warn(`could not serve terminal commands on ${path} (${(error as Error).message}); ${without}`);
    return undefined;
  }
  server.on('error', (error) => warn(`the command socket ${path}: ${error.message}`));
  return {
    path,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of connections) socket.destroy();
      await closed;
      // On Redis another worker on this machine may have taken the name since: its socket stays.
      const now = await stat(path).catch(() => undefined);
      if (now?.ino === bound) await rm(path, { force: true });
    },
  };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function serveConnection(
  socket: Socket,
  ports: ServedPorts,
  hello: Hello,
  warn: (message: string) => void,
): void {
  // A client that goes away mid-answer is no concern of this process.
  socket.on('error', () => undefined);
  const send = (frame: Buffer) => {
    if (!socket.destroyed) socket.write(frame);
  };
  send(encodeFrame(hello));
  const reader = new FrameReader();
  socket.on('data', (chunk: Buffer) => {
    let frames: unknown[];
    try {
      frames = reader.push(chunk);
    } catch (error) {
      warn(`closed a command socket connection that sent ${(error as Error).message}`);
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      const call = asCall(frame);
      if (typeof call === 'string') {
        warn(`closed a command socket connection that sent a frame with ${call}`);
        socket.destroy();
        return;
      }
      // Answered as each call ends, in any order: a long poll does not hold up the calls after it.
      void answer(call, ports, warn).then((answered) => send(encodedAnswer(answered)));
    }
  });
}

async function answer(
  call: CallFrame,
  ports: ServedPorts,
  warn: (message: string) => void,
): Promise<AnswerFrame> {
  const { id, port, method } = call;
  if (!isAllowedCall(port, method)) {
    warn(`refused a command socket call of ${describe(port)}.${describe(method)}: not offered`);
    return {
      id,
      ok: false,
      error: {
        name: 'CommandSocketRefusal',
        message: `${describe(port)}.${describe(method)} is not a call the command socket offers`,
      },
    };
  }
  const target = ports[port];
  try {
    const fn = (target as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw new Error(`${port}.${method} is not served here`);
    return { id, ok: true, value: await Reflect.apply(fn, target, call.args) };
  } catch (error) {
    const { name, message } =
      error instanceof Error ? error : { name: 'Error', message: String(error) };
    const code = (error as { code?: unknown } | null)?.code;
    return {
      id,
      ok: false,
      error: { name, message, ...(typeof code === 'string' ? { code } : {}) },
    };
  }
}

/** The answer as a frame; one that cannot be sent is replaced by an error saying why. */
function encodedAnswer(answered: AnswerFrame): Buffer {
  const failed = (message: string) =>
    encodeFrame({ id: answered.id, ok: false, error: { name: 'CommandSocketError', message } });
  try {
    const frame = encodeFrame(answered);
    return frame.length - 4 > MAX_FRAME_BYTES
      ? failed(`the answer is ${frame.length} bytes, more than the socket carries`)
      : frame;
  } catch (error) {
    return failed(`the answer could not be encoded: ${(error as Error).message}`);
  }
}

/** A name from a client, for a log line: short and printable. */
function describe(name: string): string {
  const short = name.length > 40 ? `${name.slice(0, 40)}…` : name;
  return /^[A-Za-z_]\w*$/.test(short) ? short : JSON.stringify(short);
}
