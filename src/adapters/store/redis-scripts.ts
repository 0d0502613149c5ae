import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Runs Lua scripts by their digest, so a script that runs on every step is not sent each time;
 * a Redis that does not know it (restarted, failed over, flushed) is sent the script once more.
 */
export class RedisScripts {
  private readonly digests = new Map<string, string>();

  constructor(private readonly redis: Redis) {}

  async run(script: string, keys: string[], args: string[]): Promise<unknown> {
    let digest = this.digests.get(script);
    if (digest === undefined) {
      digest = createHash('sha1').update(script).digest('hex');
      this.digests.set(script, digest);
    }
    try {
      return await this.redis.evalsha(digest, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error as Error).message.startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(script, keys.length, ...keys, ...args);
    }
  }
}
