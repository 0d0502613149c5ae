import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { RedisHealth, type RedisTroubleFields } from '../../src/adapters/queue/redis-connection.js';

function setup() {
  const said: RedisTroubleFields[] = [];
  let now = 0;
  const health = new RedisHealth(
    (_message, fields) => said.push(fields),
    () => now,
  );
  const connections = [new EventEmitter(), new EventEmitter(), new EventEmitter()];
  for (const connection of connections) health.watch(connection);
  return { health, said, connections, later: (ms: number) => (now += ms) };
}

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), {
  code: 'ECONNREFUSED',
});

describe('RedisHealth', () => {
  it('says down once and back once for an outage that every connection sees, many times', () => {
    const { said, connections } = setup();
    for (let retry = 0; retry < 5; retry += 1)
      for (const connection of connections) connection.emit('error', refused);
    connections[0]?.emit('ready');
    connections[1]?.emit('ready');
    expect(said).toEqual([{ redis: 'down', reason: 'ECONNREFUSED' }]);
    connections[2]?.emit('ready');
    expect(said).toEqual([{ redis: 'down', reason: 'ECONNREFUSED' }, { redis: 'back' }]);
  });

  it('does not wait for a connection that was closed while Redis was down', () => {
    const { said, connections } = setup();
    for (const connection of connections) connection.emit('error', refused);
    connections[0]?.emit('end');
    connections[1]?.emit('ready');
    connections[2]?.emit('ready');
    expect(said.at(-1)).toEqual({ redis: 'back' });
  });

  it('passes on an error from BullMQ once a minute, and none of the connection errors', () => {
    const { health, said, connections, later } = setup();
    const unblocked = new Error('UNBLOCKED force unblock from blocking operation');
    health.sawError(unblocked);
    later(59_000);
    health.sawError(unblocked);
    expect(said).toEqual([{ redis: 'error', reason: unblocked.message }]);
    later(1_000);
    health.sawError(unblocked);
    expect(said).toHaveLength(2);
    connections[0]?.emit('error', refused);
    health.sawError(refused);
    health.sawError(new Error('Connection is closed.'));
    expect(said.slice(2)).toEqual([{ redis: 'down', reason: 'ECONNREFUSED' }]);
  });
});
