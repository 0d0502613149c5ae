import type { Redis } from 'ioredis';
import type { RolloutStore, StoredUpdate } from '../../app/store-ports.js';
import {
  changeBetween,
  fromCheckpoint,
  parseRolloutState,
  progressOf,
  type RolloutState,
} from '../../core/rollout/index.js';
import type { RedisKeys } from './redis-keys.js';
import { RedisScripts } from './redis-scripts.js';

// Neither script reads a state: the sequence of the newest checkpoint is a field of its own.
// The progress replaces an older one (and the changes made since it) unless a newer one is stored.
const SAVE_PROGRESS = `
local head = redis.call('HGET', KEYS[1], 'sequence')
if head and tonumber(head) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'sequence', ARGV[1], 'progress', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[1], 'plan', ARGV[3]) end
redis.call('DEL', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

// A change goes onto the checkpoint it was made from, and nowhere else. The same change sent again
// (its answer was lost on the way) is already stored, and so are its updates (ARGV[6] on, onto
// the stream KEYS[3], trimmed to about ARGV[5]).
const SAVE_CHANGE = `
local head = redis.call('HGET', KEYS[1], 'sequence')
if head == ARGV[2] and redis.call('LINDEX', KEYS[2], -1) == ARGV[3] then return 1 end
if head ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'sequence', ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
for index = 6, #ARGV do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'update', ARGV[index])
end
if #ARGV >= 6 then redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
return 1`;

// One command per update rather than a transaction of four: there is one per transition.
const APPEND = `
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'update', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

/** How long a rollout's state and updates are kept after its last change. */
const RETAIN_MS = 30 * 86_400_000;
const UPDATES_MAX = 50_000;

export class RedisRolloutStore implements RolloutStore {
  private readonly scripts: RedisScripts;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.scripts = new RedisScripts(redis);
  }

  async save(
    state: RolloutState,
    previous?: RolloutState,
    updates: readonly StoredUpdate[] = [],
  ): Promise<boolean> {
    const keys = [this.keys.checkpoint(state.id), this.keys.checkpointChanges(state.id)];
    if (previous !== undefined && previous.sequence < state.sequence) {
      const change = JSON.stringify(changeBetween(previous, state));
      const saved = await this.scripts.run(
        SAVE_CHANGE,
        [...keys, this.keys.updates(state.id)],
        [
          String(previous.sequence),
          String(state.sequence),
          change,
          String(RETAIN_MS),
          String(UPDATES_MAX),
          ...updates.map((update) => JSON.stringify(update)),
        ],
      );
      return saved === 1;
    }
    // The plan is sent only when none is stored yet: it is by far the largest part.
    const planned = (await this.redis.hexists(keys[0] as string, 'plan')) === 1;
    const saved = await this.scripts.run(SAVE_PROGRESS, keys, [
      String(state.sequence),
      JSON.stringify(progressOf(state)),
      planned ? '' : JSON.stringify(state.plan),
      String(RETAIN_MS),
    ]);
    if (saved !== 1) return false;
    for (const update of updates) await this.append(state.id, update);
    return true;
  }

  async load(id: string): Promise<RolloutState | undefined> {
    const [[, stored], [, changes]] = (await this.redis
      .multi()
      .hmget(this.keys.checkpoint(id), 'progress', 'plan')
      .lrange(this.keys.checkpointChanges(id), 0, -1)
      .exec()) as [[null, (string | null)[]], [null, string[]]];
    const [progress, plan] = stored;
    const data =
      progress === null || progress === undefined || plan === null || plan === undefined
        ? await this.redis.get(this.keys.wholeCheckpoint(id))
        : undefined;
    if (data === null) return undefined;
    let state: unknown;
    try {
      state =
        data === undefined
          ? fromCheckpoint(
              JSON.parse(plan as string),
              JSON.parse(progress as string),
              changes.map((change) => JSON.parse(change)),
            )
          : JSON.parse(data);
    } catch (error) {
      throw new Error(`rollout ${id}: ${(error as Error).message}`, { cause: error });
    }
    const parsed = parseRolloutState(state);
    if (!parsed.ok) throw new Error(`rollout ${id}: ${parsed.message}`);
    return parsed.state;
  }

  async append(id: string, update: StoredUpdate): Promise<void> {
    await this.scripts.run(
      APPEND,
      [this.keys.updates(id)],
      [JSON.stringify(update), String(UPDATES_MAX), String(RETAIN_MS)],
    );
  }

  async read(
    id: string,
    cursor: string,
    blockMs: number,
  ): Promise<{ cursor: string; update: StoredUpdate }[]> {
    // BLOCK 0 would wait for ever (and hold the connection): 0 here means do not wait at all.
    const reply =
      blockMs > 0
        ? await this.redis.xread('BLOCK', blockMs, 'STREAMS', this.keys.updates(id), cursor)
        : await this.redis.xread('STREAMS', this.keys.updates(id), cursor);
    if (reply === null) return [];
    return reply.flatMap(([, entries]) =>
      entries.map(([entryId, fields]) => ({
        cursor: entryId,
        update: JSON.parse(fields[1] ?? 'null') as StoredUpdate,
      })),
    );
  }

  async requestCancel(id: string, by: string): Promise<void> {
    await this.redis.set(this.keys.cancel(id), by, 'PX', RETAIN_MS, 'NX');
  }

  async cancelRequestedBy(id: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.cancel(id))) ?? undefined;
  }

  async answerGate(
    id: string,
    group: string,
    answer: { continue: boolean; by: string },
  ): Promise<void> {
    await this.redis.set(this.keys.gate(id, group), JSON.stringify(answer), 'PX', RETAIN_MS, 'NX');
  }

  async gateAnswer(
    id: string,
    group: string,
  ): Promise<{ continue: boolean; by: string } | undefined> {
    const text = await this.redis.get(this.keys.gate(id, group));
    return text === null ? undefined : (JSON.parse(text) as { continue: boolean; by: string });
  }
}
