import { createConnection, type Socket } from 'node:net';
import {
  ALLOWED_CALLS,
  commandSocketPath,
  encodeFrame,
  FrameReader,
  type AnswerFrame,
  type Hello,
  type PortName,
} from './command-socket-protocol.js';

/**
 * How long a process that accepted the connection has to say who it is. A serving process is
 * never busy for this long; one that is (or is stuck) is treated as not answering, and the
 * data directory's lock then decides (a live holder refuses the command, as without a socket).
 */
export const HELLO_MS = 2000;

/** How long a call may go unanswered: `silentMs`, and a blocking read's own wait on top. */
export function answerWithin(silentMs: number, method: string, args: unknown[]): number {
  const waits = method === 'read' && typeof args[2] === 'number' ? args[2] : 0;
  return silentMs + waits;
}

/** The serving process went away while a call was waiting for its answer. */
export class CommandSocketLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandSocketLostError';
  }
}

/** An error a store raised in the serving process, as it was raised there. */
export class RemoteCallError extends Error {
  /** The error's code there (ECONNREFUSED, say), for callers that tell errors by it. */
  readonly code: string | undefined;

  constructor(name: string, message: string, code?: string) {
    super(message);
    this.name = name;
    this.code = code;
  }
}

interface Pending {
  what: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A connection to the process that serves a data directory's socket. */
export class CommandSocketConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private lost: string | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly dir: string,
    readonly server: Hello['hello'],
  ) {}

  /**
   * Connects to the process serving `dir`, or undefined when none answers: no socket file, nobody
   * listening on it (a holder that died, or one stopping), no hello within `helloMs`, or one that
   * does not answer for `backend` (when given).
   */
  static async connect(
    dir: string,
    helloMs: number = HELLO_MS,
    backend?: string,
  ): Promise<CommandSocketConnection | undefined> {
    const path = commandSocketPath(dir);
    if (path === undefined) return undefined;
    return new Promise((resolve) => {
      const socket = createConnection(path);
      const reader = new FrameReader();
      let connection: CommandSocketConnection | undefined;
      const giveUp = () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(undefined);
      };
      const timer = setTimeout(giveUp, helloMs);
      socket.on('error', (error) => {
        if (connection === undefined) giveUp();
        else connection.fail(`the connection failed (${error.message})`);
      });
      socket.on('close', () => {
        if (connection === undefined) giveUp();
        else connection.fail('it closed the connection');
      });
      socket.on('data', (chunk: Buffer) => {
        let frames: unknown[];
        try {
          frames = reader.push(chunk);
        } catch (error) {
          if (connection === undefined) return giveUp();
          connection.fail(`it sent ${(error as Error).message}`);
          socket.destroy();
          return;
        }
        for (const frame of frames) {
          if (connection !== undefined) {
            connection.settle(frame as AnswerFrame);
            continue;
          }
          const hello = (frame as Partial<Hello> | null)?.hello;
          if (hello?.protocol !== 1) return giveUp();
          if (backend !== undefined && hello.backend !== backend) return giveUp();
          clearTimeout(timer);
          connection = new CommandSocketConnection(socket, dir, hello);
          resolve(connection);
        }
      });
    });
  }

  /**
   * Calls `port.method(...args)` in the serving process. Given `silentMs`, a process that has not
   * answered by then (stopped with SIGSTOP, say: its socket stays open) is taken for gone: this
   * call and every other waiting on the connection fail as lost, and the connection is closed.
   */
  call(port: PortName, method: string, args: unknown[], silentMs?: number): Promise<unknown> {
    const what = `${port}.${method}`;
    if (this.lost !== undefined) return Promise.reject(this.lostError(what, this.lost));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        silentMs === undefined
          ? undefined
          : setTimeout(() => {
              this.fail(`no answer within ${silentMs} ms`);
              this.socket.destroy();
            }, silentMs);
      this.pending.set(id, {
        what,
        resolve(value) {
          clearTimeout(timer);
          resolve(value);
        },
        reject(error) {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.socket.write(encodeFrame({ id, port, method, args }));
    });
  }

  /**
   * The port as an object whose methods are calls in the serving process; given `silentMs`, each
   * bounded by it past its own wait (see `call` and `answerWithin`).
   */
  port<P>(port: PortName, silentMs?: number): P {
    return Object.fromEntries(
      ALLOWED_CALLS[port].map((method) => [
        method,
        (...args: unknown[]) =>
          this.call(
            port,
            method,
            args,
            silentMs === undefined ? undefined : answerWithin(silentMs, method, args),
          ),
      ]),
    ) as P;
  }

  /** Whether the serving process still answers on this connection. */
  isOpen(): boolean {
    return this.lost === undefined;
  }

  /**
   * Closes the connection at once: calls still waiting fail, saying this command closed it (the
   * serving process need not agree, nor even be running: one stopped with SIGSTOP never would).
   */
  close(): Promise<void> {
    this.fail('this command closed the connection');
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }

  private settle(frame: AnswerFrame): void {
    const waiting = this.pending.get(frame.id);
    if (waiting === undefined) return;
    this.pending.delete(frame.id);
    if (frame.ok) waiting.resolve(frame.value);
    else
      waiting.reject(new RemoteCallError(frame.error.name, frame.error.message, frame.error.code));
  }

  private fail(why: string): void {
    // The first reason stays: the socket closing after this command closed it is no news.
    const reason = (this.lost ??= why);
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      waiting.reject(this.lostError(waiting.what, reason));
    }
  }

  private lostError(what: string, why: string): CommandSocketLostError {
    const { pid, command } = this.server;
    const holds =
      this.server.backend?.startsWith('redis-') === true ? '' : `holds ${this.dir} and `;
    return new CommandSocketLostError(
      `lost baton process ${pid} (${command}), which ${holds}answered this command's calls: ${why} during ${what} (it stopped or was killed). What the command asked for may or may not be done: look with \`baton status\`, then run it again.`,
    );
  }
}
