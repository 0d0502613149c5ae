import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';

/**
 * The command socket: a `baton start` or `baton worker` holding an embedded data directory
 * answers the terminal's store and queue calls over a Unix socket in that directory, so that
 * `baton status` and the like neither open the database a second time nor are refused.
 *
 * Frames are a 4-byte big-endian length and a `v8.serialize`d value (which, unlike JSON, keeps
 * `undefined`, the answer of many store calls). The server speaks first, with a hello.
 */

/** The socket's name in the data directory, beside `baton.lock`. */
export const SOCKET_FILE = 'baton.sock';

/** Longer paths do not fit a Unix socket address (108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH_BYTES = 103;

/** Where the socket of a data directory is, or undefined when its path is too long for one. */
export function commandSocketPath(dir: string): string | undefined {
  const path = join(dir, SOCKET_FILE);
  return Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES ? path : undefined;
}

/** A frame larger than this closes the connection: no store call or answer comes near it. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * What may be called, port by port: each port's own interface methods and nothing else (never a
 * property lookup by whatever name arrives). The queue's consuming side is not offered: the
 * serving process runs the rollouts.
 */
export const ALLOWED_CALLS = {
  locks: ['acquire', 'refresh', 'release', 'forceRelease', 'get'],
  rollouts: [
    'save',
    'load',
    'append',
    'read',
    'requestCancel',
    'cancelRequestedBy',
    'answerGate',
    'gateAnswer',
  ],
  history: ['record', 'recorded', 'list'],
  audit: ['append', 'recent'],
  requests: [
    'firstDelivery',
    'open',
    'approval',
    'decide',
    'pending',
    'unlaunched',
    'settleLaunch',
  ],
  schedules: ['create', 'get', 'open', 'transition'],
  outbox: ['add', 'change', 'get', 'unsettled', 'claim', 'record'],
  queue: ['add', 'schedule', 'unschedule', 'state', 'depth', 'failed', 'retry'],
} as const satisfies Record<string, readonly string[]>;

export type PortName = keyof typeof ALLOWED_CALLS;

/** Whether `port.method` is offered; own-property checks only, so `__proto__` and the like are not. */
export function isAllowedCall(port: string, method: string): port is PortName {
  if (!Object.hasOwn(ALLOWED_CALLS, port)) return false;
  return (ALLOWED_CALLS[port as PortName] as readonly string[]).includes(method);
}

/** Who serves the socket, said first on every connection. */
export interface Hello {
  /** `backend`: which state it answers for (see CommandSocketPlace); older ones do not say. */
  hello: { protocol: 1; pid: number; command: string; backend?: string };
}

export interface CallFrame {
  id: number;
  port: string;
  method: string;
  args: unknown[];
}

export type AnswerFrame =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

export function encodeFrame(value: unknown): Buffer {
  const body = serialize(value);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/**
 * Cuts a byte stream into decoded frames. Throws FrameError on a frame over the bound or one that
 * does not decode; the connection is then beyond repair and is closed.
 */
export class FrameReader {
  private buffered: Buffer[] = [];
  private length = 0;

  push(chunk: Buffer): unknown[] {
    this.buffered.push(chunk);
    this.length += chunk.length;
    const frames: unknown[] = [];
    for (;;) {
      if (this.length < 4) return frames;
      const size = this.head().readUInt32BE(0);
      if (size > MAX_FRAME_BYTES)
        throw new FrameError(`a frame of ${size} bytes (at most ${MAX_FRAME_BYTES})`);
      // Joined only once the whole frame is here: a large frame in many chunks is copied once.
      if (this.length < 4 + size) return frames;
      const all =
        this.buffered.length === 1 ? (this.buffered[0] as Buffer) : Buffer.concat(this.buffered);
      const body = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.buffered = rest.length === 0 ? [] : [rest];
      this.length = rest.length;
      try {
        frames.push(deserialize(body));
      } catch (error) {
        throw new FrameError(`a frame that does not decode (${(error as Error).message})`);
      }
    }
  }

  /** The first bytes buffered, at least the four of a length. */
  private head(): Buffer {
    const first = this.buffered[0] as Buffer;
    if (first.length >= 4) return first;
    const joined = Buffer.concat(this.buffered);
    this.buffered = [joined];
    return joined;
  }
}

/** The value as a call, or why it is not one. */
export function asCall(value: unknown): CallFrame | string {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const { id, port, method, args } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return 'no numeric id';
  if (typeof port !== 'string' || typeof method !== 'string') return 'no port and method names';
  if (!Array.isArray(args)) return 'arguments that are not a list';
  return { id, port, method, args };
}
