import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP port on loopback (127.0.0.1, or `address`) that nothing listens on right now. */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
