import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';

/** Opens a TCP connection to `address:port` somewhere else (over SSH, from a jump host). */
export type OpenTunnel = (address: string, port: number) => Promise<Duplex>;

/** Resolves with what `opening` gives unless `signal` aborts first; a late connection is closed. */
export async function opened(opening: Promise<Duplex>, signal: AbortSignal): Promise<Duplex> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', abort, { once: true });
    opening.then(
      (stream) => {
        signal.removeEventListener('abort', abort);
        if (signal.aborted) stream.destroy();
        else resolve(stream);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error as Error);
      },
    );
  });
}

/**
 * GET `url` over a connection `open` makes, as fetch would from where that connection starts:
 * TLS for https (checked against the URL's host name), the body read to its end.
 */
export async function getThrough(
  open: OpenTunnel,
  url: string,
  options: { signal: AbortSignal; headers: Record<string, string> },
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port === '' ? (secure ? 443 : 80) : target.port);
  const stream = await opened(open(host, port), options.signal);
  const socket = secure
    ? tlsConnect({ socket: stream, host, ...(isIP(host) === 0 ? { servername: host } : {}) })
    : stream;
  return new Promise((resolve, reject) => {
    const respond = (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    };
    const request: ClientRequest = (secure ? httpsRequest : httpRequest)(
      target,
      {
        headers: { ...options.headers, connection: 'close' },
        signal: options.signal,
        createConnection: () => socket as Socket,
      },
      respond,
    );
    request.once('error', (error) => {
      stream.destroy();
      reject(error);
    });
    request.end();
  });
}
