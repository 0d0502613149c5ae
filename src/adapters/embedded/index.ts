// The embedded backend's parts, loaded only when it is used (never with REDIS_URL set).
export { openEmbeddedDatabase } from './embedded-database.js';
export { EmbeddedQueueStorage, releaseJobsOfDeadProcesses } from './embedded-queue-storage.js';
export { pruning } from './schema.js';
export { SqlOutbox } from './sql-outbox.js';
export { SqlRequestStore } from './sql-request-store.js';
export { SqlScheduleStore } from './sql-schedule-store.js';
export { SqlHistory, SqlLockStore, SqlRolloutStore } from './sql-stores.js';
