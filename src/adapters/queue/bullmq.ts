import { createRequire } from 'node:module';
import type * as BullMQ from 'bullmq';

/**
 * BullMQ's values, loaded by require: its CommonJS index re-exports everything through tslib, and
 * an ESM `import` of it makes node scan each re-exported file (twice the load time of a require).
 */
const bullmq = createRequire(import.meta.url)('bullmq') as typeof BullMQ;

export const { Queue, Worker, runMigrations, createPostgresBackend, isNotConnectionError } = bullmq;
export type Queue = BullMQ.Queue;
export type Worker = BullMQ.Worker;
export type { Job, PgPool, PgPoolClient, WorkerOptions } from 'bullmq';
