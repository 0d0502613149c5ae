import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { systemClock } from './adapters/clock/system-clock.js';
import { NetworkHealthProbe } from './adapters/health/network-health-probe.js';
import {
  cachedPlaybookDirectory,
  servicePlaybook,
} from './adapters/playbooks/playbook-directory.js';
import { resolve } from 'node:path';
import {
  BullRolloutQueue,
  RedisQueueStorage,
  redisConnection,
  type RedisTrouble,
} from './adapters/queue/bullmq-rollout-queue.js';
import { SshExecutor } from './adapters/ssh/ssh-executor.js';
import { RedisAuditLog, RedisHistoryStore } from './adapters/store/redis-history.js';
import { RedisKeys } from './adapters/store/redis-keys.js';
import { RedisLockStore } from './adapters/store/redis-lock-store.js';
import { RedisRolloutStore } from './adapters/store/redis-rollout-store.js';
import { RedisChatOpsStore } from './adapters/store/redis-chatops-store.js';
import type { ReadinessCheck } from './adapters/ops/ops-server.js';
import { fireScheduledRollback } from './app/fire-scheduled-rollback.js';
import {
  processRolloutJob,
  type RolloutMetrics,
  type WorkerDeps,
} from './app/process-rollout-job.js';
import type { Config } from './config/env.js';
import type { Clock, RemoteExecutor } from './app/ports.js';
import type { PlaybookCatalog } from './adapters/playbooks/playbook-directory.js';
import type { ScheduledRollback } from './adapters/queue/rollout-jobs.js';
import type { ChatOpsDeps, RolloutQueue } from './app/chatops/deps.js';
import type { Chat, ChatOpsStore, UserDirectory } from './app/chatops/ports.js';
import type { AuditLog, HistoryStore, LockStore, RolloutStore } from './app/store-ports.js';
import type { Playbook } from './core/playbook/index.js';
import { createSlackApp } from './adapters/slack/bolt-app.js';
import { WebApiChat } from './adapters/slack/web-api-chat.js';
import { handleAction } from './app/chatops/handle-action.js';
import { handleCommand } from './app/chatops/handle-command.js';
import { RolloutReporter } from './app/chatops/rollout-reporter.js';

/** The one place that wires adapters to use cases. */

/** Where one process keeps its state and queue: Redis, or the embedded database under a directory. */
export interface Backend extends Stores {
  /** Said when a process starts, so nobody wonders where the state went. */
  description: string;
  queue: BullRolloutQueue;
  /** A store of its own for blocking reads (following a rollout). */
  blocking(): RolloutStore;
  /** For /healthz: the store answers. */
  readiness: ReadinessCheck;
  close(): Promise<void>;
}

export interface RedisSettings {
  url: string;
  prefix: string;
  /** Where to say that Redis went away (and came back). */
  trouble: RedisTrouble;
}

/** The Redis URL as it may be shown: without a password. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

export function openRedisBackend({ url, prefix, trouble }: RedisSettings): Backend {
  const redis = redisConnection(url, trouble);
  const keys = new RedisKeys(prefix);
  const extra: Redis[] = [];
  return {
    description: `Redis at ${redactUrl(url)} (prefix ${prefix})`,
    locks: new RedisLockStore(redis, keys),
    rollouts: new RedisRolloutStore(redis, keys),
    history: new RedisHistoryStore(redis, keys),
    audit: new RedisAuditLog(redis, keys),
    queue: new BullRolloutQueue(new RedisQueueStorage(redis, prefix)),
    chatops: new RedisChatOpsStore(redis, keys),
    blocking() {
      const connection = redis.duplicateWatched();
      extra.push(connection);
      return new RedisRolloutStore(connection, keys);
    },
    readiness: {
      name: 'redis',
      check: async () => ((await redis.ping()) === 'PONG' ? true : 'no PONG from Redis'),
    },
    async close() {
      await this.queue.close();
      for (const connection of [...extra, redis]) connection.disconnect();
    },
  };
}

/**
 * The embedded backend: BullMQ and every store in a database under `dir`, held by this process
 * alone (a second process is refused with DataDirBusyError).
 */
export async function openEmbeddedBackend(
  dir: string,
  {
    command,
    creating,
    clock = systemClock,
  }: Pick<BackendOptions, 'command' | 'creating'> & { clock?: Clock },
): Promise<Backend> {
  const {
    openEmbeddedDatabase,
    pruning,
    EmbeddedQueueStorage,
    releaseJobsOfDeadProcesses,
    SqlChatOpsStore,
    SqlHistory,
    SqlLockStore,
    SqlRolloutStore,
  } = await import('./adapters/embedded/index.js');
  const database = await openEmbeddedDatabase(dir, command, () => creating?.(dir));
  try {
    for (const [statement, params] of pruning(clock.now()))
      await database.pool.query(statement, params);
    await releaseJobsOfDeadProcesses(database.pool);
  } catch (error) {
    await database.close();
    throw error;
  }
  const rollouts = new SqlRolloutStore(database.pool, clock);
  const history = new SqlHistory(database.pool);
  const queue = new BullRolloutQueue(new EmbeddedQueueStorage(database.pool));
  return {
    description: `the embedded database in ${dir} (set REDIS_URL to use Redis)`,
    locks: new SqlLockStore(database.pool, clock),
    rollouts,
    history,
    audit: history,
    queue,
    chatops: new SqlChatOpsStore(database.pool, clock),
    blocking: () => rollouts,
    readiness: {
      name: 'embedded database',
      check: async () =>
        (await database.pool.query('SELECT 1 AS one')).rows.length === 1 ? true : 'no answer',
    },
    async close() {
      await queue.close();
      await database.close();
    },
  };
}

export interface BackendOptions {
  /** What this process is, for the embedded data directory's lock (and its refusals). */
  command: string;
  /** Where to say that Redis went away (and came back). */
  trouble: RedisTrouble;
  /** Told before the embedded database is created, which takes seconds. */
  creating?: (dir: string) => void;
}

type BackendConfig = Pick<Config, 'REDIS_URL' | 'BATON_REDIS_PREFIX' | 'BATON_DATA_DIR'>;

/** Redis when REDIS_URL is set, else the embedded database under BATON_DATA_DIR. */
export function openBackend(config: BackendConfig, options: BackendOptions): Promise<Backend> {
  return config.REDIS_URL === undefined
    ? openEmbeddedBackend(resolve(config.BATON_DATA_DIR, 'db'), options)
    : Promise.resolve(
        openRedisBackend({
          url: config.REDIS_URL,
          prefix: config.BATON_REDIS_PREFIX,
          trouble: options.trouble,
        }),
      );
}

/** Opens the backend for one piece of work and closes it afterwards. */
export async function withBackend<T>(
  config: BackendConfig,
  options: BackendOptions,
  work: (backend: Backend) => Promise<T>,
): Promise<T> {
  const backend = await openBackend(config, options);
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}

export const KNOWN_HOSTS_REQUIRED =
  'set BATON_KNOWN_HOSTS to an OpenSSH known_hosts file: baton verifies every host key and has no way to skip it.';

export function sshExecutor(config: Config, env: Record<string, string | undefined>): SshExecutor {
  if (config.BATON_KNOWN_HOSTS === undefined) throw new Error(KNOWN_HOSTS_REQUIRED);
  return new SshExecutor({
    knownHostsPath: config.BATON_KNOWN_HOSTS,
    ...(config.BATON_SSH_KEY === undefined ? {} : { privateKeyPath: config.BATON_SSH_KEY }),
    ...(env.SSH_AUTH_SOCK === undefined ? {} : { agentSocket: env.SSH_AUTH_SOCK }),
  });
}

/** Where rollouts, their jobs and what the chat knows are kept: Redis, or local mode's memory. */
export interface Stores {
  locks: LockStore;
  rollouts: RolloutStore;
  history: HistoryStore;
  audit: AuditLog;
  chatops: ChatOpsStore;
  queue: RolloutQueue;
}

/** What a worker needs to run rollout jobs through `executor`. */
export function workerDeps(
  stores: Stores,
  executor: RemoteExecutor,
  name: string,
  warn: (message: string) => void,
  metrics?: RolloutMetrics,
): WorkerDeps {
  return {
    worker: name,
    executor,
    health: new NetworkHealthProbe(executor),
    clock: systemClock,
    locks: stores.locks,
    rollouts: stores.rollouts,
    history: stores.history,
    audit: stores.audit,
    lockTtlMs: 60_000,
    pollMs: 250,
    active: new Set(),
    schedule: (rollback) => stores.queue.schedule(rollback, systemClock.now()),
    warn,
    ...(metrics === undefined ? {} : { metrics }),
  };
}

/** Fires a due scheduled rollback like any rollout, telling its channel what became of it. */
export function fireWith(
  stores: Stores,
  name: string,
  playbook: (service: string) => Promise<Playbook | undefined>,
): (rollback: ScheduledRollback) => Promise<void> {
  return async (rollback) =>
    void (await fireScheduledRollback(rollback, {
      worker: name,
      playbook,
      history: stores.history,
      locks: stores.locks,
      audit: stores.audit,
      clock: systemClock,
      enqueue: (job) => stores.queue.add(job),
      askApproval: (pending) => stores.chatops.savePending(pending),
      notify: (notice) => stores.chatops.addNotice(notice),
      announce: async (rollout, { channel, ...schedule }) =>
        stores.chatops.report({ rollout, channel, requestedBy: schedule.requestedBy, schedule }),
      newId: () => randomUUID(),
    }));
}

/** The chat use cases' dependencies, whatever the chat (Slack, local mode's console). */
export function chatOpsDeps(
  stores: Stores,
  chat: { chat: Chat; directory: UserDirectory },
  playbooks: () => Promise<PlaybookCatalog>,
  options: { clock: Clock; timeZone: string; warn: (message: string) => void },
): ChatOpsDeps {
  return {
    ...chat,
    store: stores.chatops,
    locks: stores.locks,
    rollouts: stores.rollouts,
    history: stores.history,
    audit: stores.audit,
    queue: stores.queue,
    playbooks: {
      async load() {
        const catalog = await playbooks();
        return {
          playbooks: catalog.playbooks,
          problems: catalog.problems.length,
          unusable: catalog.unusable,
        };
      },
    },
    ...options,
    newId: () => randomUUID(),
  };
}

export interface RunningWorker {
  worker: Worker;
  /**
   * Stops taking jobs, lets the steps in flight finish (up to `boundMs`), and closes connections.
   * Rollouts it was running stay unfinished: their locks lapse and another worker resumes them.
   */
  stop(boundMs?: number): Promise<void>;
}

/** A worker that takes rollout jobs from the queue and runs them over SSH. */
export function startWorker(
  backend: Backend,
  config: Config,
  env: Record<string, string | undefined>,
  name: string,
  warn: (message: string) => void,
  metrics?: RolloutMetrics,
): RunningWorker {
  return runWorker(backend, {
    executor: sshExecutor(config, env),
    playbook: (service) => servicePlaybook(config.BATON_PLAYBOOKS, service),
    name,
    warn,
    ...(metrics === undefined ? {} : { metrics }),
  });
}

/** A worker that takes rollout jobs and fires scheduled rollbacks, running steps through `executor`. */
export function runWorker(
  backend: Backend,
  options: {
    executor: RemoteExecutor & { close(): Promise<void> };
    playbook: (service: string) => Promise<Playbook | undefined>;
    name: string;
    warn: (message: string) => void;
    metrics?: RolloutMetrics;
  },
): RunningWorker {
  const { executor, name, warn } = options;
  const deps = workerDeps(backend, executor, name, warn, options.metrics);
  const scheduler = backend.queue.workSchedules(name, fireWith(backend, name, options.playbook));
  let stopping = false;
  const worker = backend.queue.work(name, async (job) => {
    const outcome = await processRolloutJob(job, deps);
    // Shutting down: the job must not count as done, so hold it until this process exits.
    if (outcome === 'suspended' && stopping) await new Promise<never>(() => {});
  });
  // If this worker could not renew a job's lock, another worker may take the job up: start no
  // new work on it here, so at most the steps already in flight overlap.
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const run of deps.active) if (jobIds.includes(run.current.id)) run.suspend();
  });
  return {
    worker,
    async stop(boundMs = 30_000) {
      stopping = true;
      await scheduler.close();
      await worker.pause(true);
      const runs = [...deps.active];
      for (const run of runs) run.suspend();
      const settled = Promise.all(runs.map((run) => run.settled()));
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, boundMs).unref())]);
      await executor.close();
      await worker.close(true);
    },
  };
}

export interface RunningSlackApp {
  chat: WebApiChat;
  /** Whether Slack can reach this process (for /healthz). */
  connected(): boolean;
  reporter: RolloutReporter;
  /** Stops taking commands and clicks, and stops reporting (another `serve` takes reporting up). */
  stop(): Promise<void>;
}

/** The Slack app: Bolt in front, the chat use cases behind it, and the rollout reporter. */
export async function startSlackApp(
  backend: Backend,
  config: Config,
  name: string,
  warn: (message: string) => void,
  { clock = systemClock, reportLeaseMs }: { clock?: Clock; reportLeaseMs?: number } = {},
): Promise<RunningSlackApp> {
  const token = config.SLACK_BOT_TOKEN;
  if (token === undefined) throw new Error('set SLACK_BOT_TOKEN (xoxb-…) to run the Slack app');
  if (config.SLACK_APP_TOKEN === undefined && config.SLACK_SIGNING_SECRET === undefined)
    throw new Error(
      'set SLACK_SIGNING_SECRET (HTTP requests from Slack are verified with it) or SLACK_APP_TOKEN (Socket Mode)',
    );
  const chat = new WebApiChat({
    token,
    ...(config.SLACK_API_URL === undefined ? {} : { apiUrl: config.SLACK_API_URL }),
    warn,
  });
  const auth = await chat.client.auth.test().catch((error: unknown) => {
    throw new Error(`Slack did not accept SLACK_BOT_TOKEN: ${(error as Error).message}`);
  });
  const deps = chatOpsDeps(
    backend,
    { chat, directory: chat },
    cachedPlaybookDirectory(config.BATON_PLAYBOOKS),
    { clock, timeZone: config.BATON_TIMEZONE, warn },
  );
  const reporter = new RolloutReporter(deps, name, reportLeaseMs);
  const { app, connected } = createSlackApp({
    botToken: token,
    ...(config.SLACK_SIGNING_SECRET === undefined
      ? {}
      : { signingSecret: config.SLACK_SIGNING_SECRET }),
    ...(config.SLACK_APP_TOKEN === undefined ? {} : { appToken: config.SLACK_APP_TOKEN }),
    ...(config.SLACK_API_URL === undefined ? {} : { apiUrl: config.SLACK_API_URL }),
    port: config.PORT,
    botId: auth.bot_id ?? '',
    botUserId: auth.user_id ?? '',
    onCommand: (text, from) => handleCommand(deps, text, from),
    onAction: (action, value, from) => handleAction(deps, action, value, from),
    warn,
  });
  await (config.SLACK_APP_TOKEN === undefined ? app.start(config.PORT) : app.start());
  let stopped = false;
  reporter.start();
  return {
    chat,
    connected: () => !stopped && connected(),
    reporter,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.stop();
      await reporter.stop();
    },
  };
}
