import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** One thing the process needs to do its job; ready only when every check passes. */
export interface ReadinessCheck {
  name: string;
  /** true when fine; otherwise what is wrong. */
  check(): Promise<true | string>;
}

const CHECK_TIMEOUT_MS = 1000;

async function run(check: ReadinessCheck): Promise<true | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      check.check().catch((error: unknown) => (error as Error).message),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface OpsServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/**
 * `/healthz` (200 when every check passes, 503 naming what does not) and `/metrics` (Prometheus
 * text format), for load balancers, orchestrators and scrapers.
 */
export async function startOpsServer(
  { host, port }: { host: string; port: number },
  checks: readonly ReadinessCheck[],
  registry: Registry,
): Promise<OpsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/healthz') {
      void Promise.all(checks.map(run)).then((results) => {
        const detail = Object.fromEntries(
          checks.map((check, index) => [
            check.name,
            results[index] === true ? 'ok' : results[index],
          ]),
        );
        const ready = results.every((result) => result === true);
        response
          .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: ready ? 'ready' : 'not ready', checks: detail }));
      });
      return;
    }
    if (path === '/metrics') {
      void registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('try /healthz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
