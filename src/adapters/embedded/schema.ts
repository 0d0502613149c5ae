/**
 * baton's own tables in the embedded database, beside BullMQ's. Values are JSON text, as in
 * Redis; times are epoch milliseconds from the process's clock (there is one process).
 */
export const BATON_SCHEMA = `
CREATE SCHEMA IF NOT EXISTS baton;
CREATE TABLE IF NOT EXISTS baton.locks (
  service text NOT NULL, environment text NOT NULL,
  token text NOT NULL, holder text NOT NULL, expires_at bigint NOT NULL,
  PRIMARY KEY (service, environment));
CREATE TABLE IF NOT EXISTS baton.checkpoints (
  id text PRIMARY KEY, sequence bigint NOT NULL, state text NOT NULL, at bigint NOT NULL);
CREATE TABLE IF NOT EXISTS baton.checkpoint_plans (
  id text PRIMARY KEY, plan text NOT NULL, at bigint NOT NULL);
CREATE TABLE IF NOT EXISTS baton.checkpoint_changes (
  id text NOT NULL, sequence bigint NOT NULL, change text NOT NULL, at bigint NOT NULL,
  PRIMARY KEY (id, sequence));
CREATE TABLE IF NOT EXISTS baton.updates (
  seq bigserial PRIMARY KEY, id text NOT NULL, update text NOT NULL, at bigint NOT NULL);
CREATE INDEX IF NOT EXISTS updates_by_rollout ON baton.updates (id, seq);
CREATE TABLE IF NOT EXISTS baton.cancels (id text PRIMARY KEY, by text NOT NULL, at bigint NOT NULL);
CREATE TABLE IF NOT EXISTS baton.gates (
  id text NOT NULL, grp text NOT NULL, answer text NOT NULL, at bigint NOT NULL,
  PRIMARY KEY (id, grp));
CREATE TABLE IF NOT EXISTS baton.history (
  seq bigserial PRIMARY KEY, service text NOT NULL, environment text NOT NULL,
  rollout text NOT NULL, entry text NOT NULL, UNIQUE (service, environment, rollout));
CREATE INDEX IF NOT EXISTS history_by_target ON baton.history (service, environment, seq);
CREATE TABLE IF NOT EXISTS baton.audit (seq bigserial PRIMARY KEY, entry text NOT NULL);
CREATE TABLE IF NOT EXISTS baton.deliveries (key text PRIMARY KEY, until bigint NOT NULL);
CREATE TABLE IF NOT EXISTS baton.pending (
  id text PRIMARY KEY, status text NOT NULL, pending text NOT NULL, keep_until bigint NOT NULL);
CREATE TABLE IF NOT EXISTS baton.launches (id text PRIMARY KEY, result text NOT NULL);
CREATE TABLE IF NOT EXISTS baton.schedules (
  id text PRIMARY KEY, service text NOT NULL, environment text NOT NULL, run_at bigint NOT NULL,
  rollback text NOT NULL, status text NOT NULL, settled text, firing text,
  keep_until bigint NOT NULL);
CREATE INDEX IF NOT EXISTS schedules_by_target ON baton.schedules (service, environment, status);
CREATE TABLE IF NOT EXISTS baton.outbox (
  key text PRIMARY KEY, destination text NOT NULL, view text NOT NULL, created_at bigint NOT NULL,
  delivery text NOT NULL, settled boolean NOT NULL, keep_until bigint NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_unsettled ON baton.outbox (settled, created_at);
CREATE TABLE IF NOT EXISTS baton.outbox_leases (
  key text PRIMARY KEY, owner text NOT NULL, until bigint NOT NULL);
DROP TABLE IF EXISTS baton.reports, baton.report_leases, baton.notices, baton.schedule_messages,
  baton.schedule_claims;
`;

/** How long a rollout's checkpoint, updates, cancel and gate answers are kept (as in Redis). */
export const RETAIN_MS = 30 * 86_400_000;
export const HISTORY_MAX = 500;
export const AUDIT_MAX = 100_000;

/** Statements that drop what has outlived its time; run when the database opens. */
export function pruning(now: number): [string, number[]][] {
  const retained = now - RETAIN_MS;
  return [
    ['DELETE FROM baton.checkpoints WHERE at < $1', [retained]],
    ['DELETE FROM baton.checkpoint_plans WHERE id NOT IN (SELECT id FROM baton.checkpoints)', []],
    ['DELETE FROM baton.checkpoint_changes WHERE id NOT IN (SELECT id FROM baton.checkpoints)', []],
    ['DELETE FROM baton.updates WHERE at < $1', [retained]],
    ['DELETE FROM baton.cancels WHERE at < $1', [retained]],
    ['DELETE FROM baton.gates WHERE at < $1', [retained]],
    ['DELETE FROM baton.deliveries WHERE until < $1', [now]],
    ['DELETE FROM baton.pending WHERE keep_until < $1', [now]],
    ['DELETE FROM baton.launches WHERE id NOT IN (SELECT id FROM baton.pending)', []],
    ['DELETE FROM baton.schedules WHERE keep_until < $1', [now]],
    ['DELETE FROM baton.outbox WHERE keep_until < $1', [now]],
    ['DELETE FROM baton.outbox_leases WHERE until < $1', [now]],
  ];
}
