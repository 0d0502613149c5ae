import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { systemClock } from '../../src/adapters/clock/system-clock.js';
import { CommandSocketConnection } from '../../src/adapters/embedded/command-socket-client.js';
import type { PortName } from '../../src/adapters/embedded/command-socket-protocol.js';
import {
  serveCommandSocket,
  type CommandSocketServer,
  type ServedPorts,
} from '../../src/adapters/embedded/command-socket-server.js';
import { InMemoryOutbox } from '../support/memory/memory-outbox.js';
import { InMemoryRequestStore } from '../support/memory/memory-request-store.js';
import { InMemoryScheduleStore } from '../support/memory/memory-schedule-store.js';
import {
  InMemoryHistory,
  InMemoryLockStore,
  InMemoryRolloutStore,
} from '../support/memory/memory-stores.js';
import { VirtualClock } from '../support/virtual-clock.js';
import { historyStoreContract } from './history-store.contract.js';
import { lockStoreContract } from './lock-store.contract.js';
import { outboxContract } from './outbox.contract.js';
import { requestStoreContract } from './request-store.contract.js';
import { rolloutStoreContract } from './rollout-store.contract.js';
import { scheduleStoreContract } from './schedule-store.contract.js';

// The stores as a terminal command sees them through the command socket: every call and answer
// goes through the frames, so whatever they lose (undefined, an error, a nested value) shows.
const servers: CommandSocketServer[] = [];
const connections: CommandSocketConnection[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const connection of connections) await connection.close();
  for (const server of servers) await server.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function throughSocket<P extends object>(name: PortName, store: P): Promise<P> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-socket-'));
  dirs.push(dir);
  const ports = { [name]: store } as unknown as ServedPorts;
  const server = await serveCommandSocket(dir, ports, {
    command: 'contract tests',
    warn: (message) => {
      throw new Error(`unexpected warning: ${message}`);
    },
  });
  if (server === undefined) throw new Error('the command socket was not served');
  servers.push(server);
  const connection = await CommandSocketConnection.connect(dir);
  if (connection === undefined) throw new Error('no answer on the command socket');
  connections.push(connection);
  return connection.port<P>(name);
}

const pass = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

lockStoreContract('through the command socket', async () => {
  const clock = new VirtualClock();
  return {
    locks: await throughSocket('locks', new InMemoryLockStore(clock)),
    pass: (ms) => clock.sleep(ms),
  };
});

rolloutStoreContract('through the command socket', async () =>
  throughSocket('rollouts', new InMemoryRolloutStore()),
);

historyStoreContract('through the command socket', async () =>
  throughSocket('history', new InMemoryHistory()),
);

requestStoreContract('through the command socket', async () => ({
  store: await throughSocket('requests', new InMemoryRequestStore(systemClock)),
  pass,
}));

scheduleStoreContract('through the command socket', async () =>
  throughSocket('schedules', new InMemoryScheduleStore()),
);

outboxContract('through the command socket', async () => ({
  outbox: await throughSocket('outbox', new InMemoryOutbox(systemClock)),
  pass,
}));
