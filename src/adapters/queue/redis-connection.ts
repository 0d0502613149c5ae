import type { EventEmitter } from 'node:events';
import { isNotConnectionError } from './bullmq.js';
import { Redis, type RedisOptions } from 'ioredis';

/** What a process says about Redis, as log fields: gone, back, or an error a command met. */
export type RedisTroubleFields =
  { redis: 'down'; reason: string } | { redis: 'back' } | { redis: 'error'; reason: string };

/** Told when Redis goes away and comes back; ioredis keeps reconnecting, commands wait meanwhile. */
export type RedisTrouble = (message: string, fields: RedisTroubleFields) => void;

/** The same error from BullMQ's loops is said at most this often. */
const REPEAT_MS = 60_000;

type Emitter = Pick<EventEmitter, 'on'>;

/**
 * Redis as every connection of one process sees it, so that one outage is one "down" line and one
 * "back" line however many connections (ours and BullMQ's) notice it: down when the first of them
 * fails, back when every one that failed is ready again.
 */
export class RedisHealth {
  private readonly failing = new Set<Emitter>();
  private down = false;
  private readonly said = new Map<string, number>();

  constructor(
    private readonly trouble: RedisTrouble,
    private readonly now: () => number = Date.now,
  ) {}

  watch(connection: Emitter): void {
    connection.on('error', (error: Error) => {
      this.failing.add(connection);
      if (this.down) return;
      this.down = true;
      const reason = (error as NodeJS.ErrnoException).code ?? error.message;
      this.trouble(`Redis is unreachable (${reason}); waiting for it to come back`, {
        redis: 'down',
        reason,
      });
    });
    connection.on('ready', () => {
      this.failing.delete(connection);
      if (!this.down || this.failing.size > 0) return;
      this.down = false;
      this.said.clear();
      this.trouble('Redis is back', { redis: 'back' });
    });
    // Closed for good (the process is stopping): it will never be ready again.
    connection.on('end', () => this.failing.delete(connection));
  }

  /** An error a BullMQ Queue or Worker passes on: its connection's own are said already. */
  sawError(error: Error): void {
    if (this.down || !isNotConnectionError(error)) return;
    const now = this.now();
    const last = this.said.get(error.message);
    if (last !== undefined && now - last < REPEAT_MS) return;
    this.said.set(error.message, now);
    this.trouble(`Redis: ${error.message}`, { redis: 'error', reason: error.message });
  }
}

/** baton reads replies in ioredis's default (RESP2-shaped) form. */
type LegacyOptions = RedisOptions & { replyMapping?: 'legacy' };

/**
 * A connection whose copies (BullMQ makes its own for workers' blocking commands) report to the
 * same RedisHealth, so that none of them prints ioredis's "Unhandled error event" dumps.
 */
export class WatchedRedis extends Redis {
  readonly health: RedisHealth;

  /** `target`: a redis:// URL, or the options of the connection being copied. */
  constructor(target: string | LegacyOptions, health: RedisHealth) {
    if (typeof target === 'string') super(target, { maxRetriesPerRequest: null });
    else super(target);
    this.health = health;
    health.watch(this);
    // BullMQ copies the connection it is given (workers block on copies): the copies report too.
    this.duplicate = ((override?: Partial<LegacyOptions>) =>
      this.duplicateWatched(override)) as Redis['duplicate'];
  }

  /** Another connection to the same Redis, reporting to the same RedisHealth. */
  duplicateWatched(override: Partial<LegacyOptions> = {}): WatchedRedis {
    return new WatchedRedis({ ...(this.options as LegacyOptions), ...override }, this.health);
  }
}

/**
 * Commands wait for Redis to come back rather than fail after a few retries (BullMQ needs that
 * for blocking commands, and a rollout would rather pause than lose a checkpoint).
 */
export function redisConnection(url: string, trouble: RedisTrouble): WatchedRedis {
  return new WatchedRedis(url, new RedisHealth(trouble));
}
