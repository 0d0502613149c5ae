import type { Redis } from 'ioredis';
import { systemClock } from './adapters/clock/system-clock.js';
import { NetworkHealthProbe } from './adapters/health/network-health-probe.js';
import { playbookOptions } from './adapters/playbooks/playbook-directory.js';
import type { ReadinessCheck } from './adapters/ops/ops-server.js';
import {
  BullRolloutQueue,
  RedisQueueStorage,
  redisConnection,
  type RedisTrouble,
} from './adapters/queue/bullmq-rollout-queue.js';
import type { WebApiChat } from './adapters/slack/web-api-chat.js';
import { SshExecutor } from './adapters/ssh/ssh-executor.js';
import { ChildProcessShell } from './adapters/controller/child-process-shell.js';
import { redactUrl } from './adapters/log/redact.js';
import { RedisAuditLog, RedisHistoryStore } from './adapters/store/redis-history.js';
import { RedisKeys } from './adapters/store/redis-keys.js';
import { RedisLockStore } from './adapters/store/redis-lock-store.js';
import { RedisOutbox } from './adapters/store/redis-outbox.js';
import { RedisRequestStore } from './adapters/store/redis-request-store.js';
import { RedisRolloutStore } from './adapters/store/redis-rollout-store.js';
import { RedisScheduleStore } from './adapters/store/redis-schedule-store.js';
import type { RequestStore } from './app/approval-ports.js';
import type { AuditLog } from './app/audit.js';
import type { Chat } from './app/chat-ports.js';
import type { ChatFrontDeps } from './app/chatops/deps.js';
import { handleAction } from './app/chatops/handle-action.js';
import { handleCommand } from './app/chatops/handle-command.js';
import { ChatView } from './app/outbox/chat-view.js';
import type { OutboxStore } from './app/outbox/ports.js';
import type { Clock, RemoteExecutor } from './app/ports.js';
import { producerOf, type RolloutQueue, type RolloutWorkSource } from './app/queue-ports.js';
import { retryingPort, STORE_RETRY } from './app/retry.js';
import type { ScheduleStore } from './app/schedule-ports.js';
import {
  releasable,
  type BlockingRollouts,
  type HistoryStore,
  type LockStore,
  type RolloutStore,
} from './app/store-ports.js';
import type { PlaybookSource, UseCaseDeps } from './app/use-cases/deps.js';
import { fireScheduledRollback } from './app/use-cases/fire-scheduled-rollback.js';
import type { RolloutMetrics, WorkerDeps } from './app/worker/deps.js';
import { startRolloutWorker, type RunningWorker } from './app/worker/rollout-worker.js';
import { embeddedDataDir } from './config/data-dir.js';
import type { Config, SlackAppSettings } from './config/env.js';

/** The one place that wires adapters to use cases. */

export type { RunningWorker } from './app/worker/rollout-worker.js';
export {
  KNOWN_HOSTS_REQUIRED,
  NO_GROUPS,
  inventorySource,
  playbookSource,
  useCaseDeps,
} from './main/use-case-deps.js';
import {
  KNOWN_HOSTS_REQUIRED,
  inventorySource,
  playbookSource,
  useCaseDeps,
} from './main/use-case-deps.js';

/** Where rollouts, their requests, schedules and messages are kept. */
export interface Stores {
  locks: LockStore;
  rollouts: RolloutStore;
  history: HistoryStore;
  audit: AuditLog;
  requests: RequestStore;
  schedules: ScheduleStore;
  outbox: OutboxStore;
}

/** Where one process keeps its state and queue: Redis, or the embedded database under a directory. */
export interface Backend extends Stores {
  /** Said when a process starts, so nobody wonders where the state went. */
  description: string;
  queue: RolloutQueue;
  /** The queue's consuming side, for workers. */
  work: RolloutWorkSource;
  /** A store of its own for blocking reads (following a rollout), until released. */
  blocking(): BlockingRollouts;
  /** For /healthz: the store answers. */
  readiness: ReadinessCheck;
  /**
   * Set when this process reaches the embedded database through the process that holds it, which
   * runs the rollouts (`work` is not offered then): that process, for messages.
   */
  servedBy?: string;
  /**
   * The embedded backend's: settles, with why, if its data directory is removed or replaced under
   * this process, which must then stop (see DataDirLock.stillHeld).
   */
  lost?: Promise<string>;
  close(): Promise<void>;
}

export interface RedisSettings {
  url: string;
  prefix: string;
  /** Where to say that Redis went away (and came back). */
  trouble: RedisTrouble;
}

/**
 * Every store call is retried for a few seconds (a failover, a dropped connection); what still
 * fails reaches the caller, whose fault model says what happens next (README, Operations).
 */
function retried<T extends Stores>(
  stores: T,
  queue: BullRolloutQueue,
): Stores & { queue: RolloutQueue } {
  const wrap = <P extends object>(port: P, name: string) =>
    retryingPort(port, name, STORE_RETRY, () => {});
  const facade = producerOf(queue);
  return {
    locks: wrap(stores.locks, 'locks'),
    rollouts: wrap(stores.rollouts, 'rollouts'),
    history: wrap(stores.history, 'history'),
    audit: wrap(stores.audit, 'audit'),
    requests: wrap(stores.requests, 'requests'),
    schedules: wrap(stores.schedules, 'schedules'),
    outbox: wrap(stores.outbox, 'outbox'),
    queue: wrap(facade, 'queue'),
  };
}

export function openRedisBackend({ url, prefix, trouble }: RedisSettings): Backend {
  const redis = redisConnection(url, trouble);
  const keys = new RedisKeys(prefix);
  const extra: Redis[] = [];
  const queue = new BullRolloutQueue(new RedisQueueStorage(redis, prefix));
  const history = new RedisHistoryStore(redis, keys);
  return {
    description: `Redis at ${redactUrl(url)} (prefix ${prefix})`,
    ...retried(
      {
        locks: new RedisLockStore(redis, keys),
        rollouts: new RedisRolloutStore(redis, keys),
        history,
        audit: new RedisAuditLog(redis, keys),
        requests: new RedisRequestStore(redis, keys),
        schedules: new RedisScheduleStore(redis, keys),
        outbox: new RedisOutbox(redis, keys),
      },
      queue,
    ),
    work: queue,
    blocking() {
      const connection = redis.duplicateWatched();
      extra.push(connection);
      const store = retryingPort(
        new RedisRolloutStore(connection, keys),
        'rollouts',
        STORE_RETRY,
        () => {},
      );
      const release = () => {
        const at = extra.indexOf(connection);
        if (at < 0) return;
        extra.splice(at, 1);
        connection.disconnect();
      };
      return releasable(store, release);
    },
    readiness: {
      name: 'redis',
      check: async () => ((await redis.ping()) === 'PONG' ? true : 'no PONG from Redis'),
    },
    async close() {
      await queue.close();
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
    template,
  }: Pick<BackendOptions, 'command' | 'creating'> & {
    clock?: Clock;
    /** The template a new database is made from (the build's, unless the bench says another). */
    template?: string;
  },
): Promise<Backend> {
  const {
    openEmbeddedDatabase,
    pruning,
    EmbeddedQueueStorage,
    releaseJobsOfDeadProcesses,
    SqlHistory,
    SqlLockStore,
    SqlOutbox,
    SqlRequestStore,
    SqlRolloutStore,
    SqlScheduleStore,
  } = await import('./adapters/embedded/index.js');
  const database = await openEmbeddedDatabase(
    dir,
    command,
    () => creating?.(dir),
    undefined,
    template,
  );
  try {
    for (const [statement, params] of pruning(clock.now()))
      await database.pool.query(statement, params);
    await releaseJobsOfDeadProcesses(database.pool);
  } catch (error) {
    await database.close();
    throw error;
  }
  const history = new SqlHistory(database.pool);
  const queue = new BullRolloutQueue(new EmbeddedQueueStorage(database.pool));
  const stores = retried(
    {
      locks: new SqlLockStore(database.pool, clock),
      rollouts: new SqlRolloutStore(database.pool, clock),
      history,
      audit: history,
      requests: new SqlRequestStore(database.pool, clock),
      schedules: new SqlScheduleStore(database.pool, clock),
      outbox: new SqlOutbox(database.pool, clock),
    },
    queue,
  );
  return {
    description: `the embedded database in ${dir} (set REDIS_URL to use Redis)`,
    ...stores,
    work: queue,
    blocking: () => releasable(stores.rollouts, () => {}),
    lost: database.lost,
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
  /** Told before the embedded database is made by initdb (no template fits): that takes seconds. */
  creating?: (dir: string) => void;
}

type BackendConfig = Pick<Config, 'REDIS_URL' | 'BATON_REDIS_PREFIX' | 'BATON_DATA_DIR'>;

export { embeddedDataDir } from './config/data-dir.js';

/** Redis when REDIS_URL is set, else the embedded database under BATON_DATA_DIR. */
export function openBackend(config: BackendConfig, options: BackendOptions): Promise<Backend> {
  return config.REDIS_URL === undefined
    ? openEmbeddedBackend(embeddedDataDir(config), options)
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

export function sshExecutor(config: Config, env: Record<string, string | undefined>): SshExecutor {
  if (config.BATON_KNOWN_HOSTS === undefined) throw new Error(KNOWN_HOSTS_REQUIRED);
  return new SshExecutor({
    knownHostsPath: config.BATON_KNOWN_HOSTS,
    ...(config.BATON_SSH_KEY === undefined ? {} : { privateKeyPath: config.BATON_SSH_KEY }),
    ...(env.SSH_AUTH_SOCK === undefined ? {} : { agentSocket: env.SSH_AUTH_SOCK }),
  });
}

/** What a worker needs to run rollout jobs through `executor`. */
export function workerDeps(
  backend: Backend,
  executor: RemoteExecutor,
  name: string,
  warn: (message: string) => void,
  metrics?: RolloutMetrics,
  say?: (message: string) => void,
): WorkerDeps {
  return {
    worker: name,
    executor,
    controller: new ChildProcessShell(),
    // Over SSH, checks of hosts behind jump hosts go through the executor's connections.
    health: new NetworkHealthProbe(
      executor,
      executor instanceof SshExecutor ? executor : undefined,
    ),
    clock: systemClock,
    locks: backend.locks,
    rollouts: backend.rollouts,
    history: backend.history,
    audit: backend.audit,
    schedules: backend.schedules,
    queue: backend.queue,
    outbox: backend.outbox,
    lockTtlMs: 60_000,
    pollMs: 250,
    active: new Set(),
    warn,
    inventory: inventorySource(),
    ...(metrics === undefined ? {} : { metrics }),
    ...(say === undefined ? {} : { say }),
  };
}

/** A worker that takes rollout jobs and fires scheduled rollbacks, running steps through `executor`. */
export function runWorker(
  backend: Backend,
  options: {
    executor: RemoteExecutor & { close(): Promise<void> };
    playbooks: PlaybookSource;
    name: string;
    timeZone: string;
    warn: (message: string) => void;
    metrics?: RolloutMetrics;
    say?: (message: string) => void;
  },
): RunningWorker {
  const { executor, name, warn } = options;
  const deps = workerDeps(backend, executor, name, warn, options.metrics, options.say);
  const scheduler = useCaseDeps(backend, {
    playbooks: options.playbooks,
    timeZone: options.timeZone,
  });
  return startRolloutWorker(
    backend.work,
    deps,
    async (rollback) => void (await fireScheduledRollback(scheduler, rollback, name)),
    () => executor.close(),
  );
}

/** A worker over SSH, with the playbooks of BATON_PLAYBOOKS as they are when a rollback fires. */
export function startWorker(
  backend: Backend,
  config: Config,
  env: Record<string, string | undefined>,
  name: string,
  warn: (message: string) => void,
  {
    metrics,
    say,
    executor = sshExecutor(config, env),
  }: {
    metrics?: RolloutMetrics;
    say?: (message: string) => void;
    /** Its SSH, when made ahead (its logins opened early); closed when the worker stops. */
    executor?: SshExecutor;
  } = {},
): RunningWorker {
  return runWorker(backend, {
    executor,
    playbooks: playbookSource(config.BATON_PLAYBOOKS, playbookOptions(config)),
    name,
    timeZone: config.BATON_TIMEZONE,
    warn,
    ...(metrics === undefined ? {} : { metrics }),
    ...(say === undefined ? {} : { say }),
  });
}

/** The chat front end's dependencies, whatever the chat (Slack, local mode's console). */
export function chatFront(
  deps: UseCaseDeps,
  chat: Chat,
  options: { owner: string; warn: (message: string) => void; leaseMs?: number },
): { front: ChatFrontDeps; view: ChatView } {
  const view = new ChatView(deps, chat, options);
  return { front: { ...deps, kick: () => view.kick(), warn: options.warn }, view };
}

export interface RunningSlackApp {
  chat: WebApiChat;
  /** What keeps Slack showing the state. */
  view: ChatView;
  /** Whether Slack can reach this process (for /healthz). */
  connected(): boolean;
  /** Stops taking commands and clicks, and stops delivering (another `serve` goes on). */
  stop(): Promise<void>;
}

/** The Slack app: Bolt in front, the chat use cases behind it, and the outbox delivered to Slack. */
export async function startSlackApp(
  backend: Backend,
  slack: SlackAppSettings,
  config: Pick<Config, 'BATON_PLAYBOOKS' | 'BATON_TIMEZONE' | 'BATON_SSH_CONFIG'>,
  name: string,
  warn: (message: string) => void,
  {
    clock = systemClock,
    leaseMs,
    requestClock = systemClock,
  }: { clock?: Clock; leaseMs?: number; requestClock?: Pick<Clock, 'now'> } = {},
): Promise<RunningSlackApp> {
  // Loaded here, not at the top: terminal commands and workers never need Bolt or the Web API.
  const [{ WebApiChat }, { createSlackApp }] = await Promise.all([
    import('./adapters/slack/web-api-chat.js'),
    import('./adapters/slack/bolt-app.js'),
  ]);
  const chat = new WebApiChat({
    token: slack.botToken,
    ...(slack.apiUrl === undefined ? {} : { apiUrl: slack.apiUrl }),
    warn,
  });
  const auth = await chat.client.auth.test().catch((error: unknown) => {
    throw new Error(`Slack did not accept SLACK_BOT_TOKEN: ${(error as Error).message}`);
  });
  const deps = useCaseDeps(backend, {
    playbooks: playbookSource(config.BATON_PLAYBOOKS, playbookOptions(config)),
    directory: chat,
    clock,
    timeZone: config.BATON_TIMEZONE,
  });
  const { front, view } = chatFront(deps, chat, {
    owner: name,
    warn,
    ...(leaseMs === undefined ? {} : { leaseMs }),
  });
  const { app, connected, settle } = createSlackApp({
    ...slack,
    now: () => requestClock.now(),
    botId: auth.bot_id ?? '',
    botUserId: auth.user_id ?? '',
    onCommand: (text, from) => handleCommand(front, text, from),
    onAction: (action, value, from) => handleAction(front, action, value, from),
    warn,
  });
  await (slack.appToken === undefined ? app.start(slack.port) : app.start());
  let stopped = false;
  view.start();
  return {
    chat,
    view,
    connected: () => !stopped && connected(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.stop();
      // What was acknowledged is done before the stop: Slack will not send it again.
      await settle();
      await view.stop();
    },
  };
}
