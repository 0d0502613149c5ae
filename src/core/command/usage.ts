import type { Verb } from './types.js';

export const USAGE: Record<Verb, string> = {
  deploy:
    '/deploy <service> <version> [to <env>] [--dry-run] [--rollback-after <duration>] [--hosts <h1,h2>] [--groups <g1,g2>]',
  rollback:
    '/deploy rollback <service> [<version>] [to <env>] [at <time> | in <duration> | --hosts <h1,h2> --groups <g1,g2>]',
  restart: '/deploy restart <service> [to <env>] [--hosts <h1,h2>] [--groups <g1,g2>]',
  status: '/deploy status [<service>]',
  history: '/deploy history <service> [to <env>]',
  cancel: '/deploy cancel <service> [to <env>]',
  schedules: '/deploy schedules',
  lock: '/deploy lock <service> [to <env>] [<reason>]',
  unlock: '/deploy unlock <service> [to <env>]',
  help: '/deploy help [<verb>]',
};

const SUMMARY: Record<Verb, string> = {
  deploy: 'roll a new version out, one group at a time',
  rollback: 'go back to the previous (or a given) version, now or later',
  restart: 'rolling restart of the running version',
  status: 'what is running now',
  history: 'versions deployed, by whom and with what result',
  cancel: 'stop a running rollout after its current step',
  schedules: 'scheduled rollbacks, each with a Cancel button',
  lock: 'stop anyone deploying a service until it is unlocked',
  unlock: 'release a lock',
  help: 'this text',
};

/** Words that start a command; a service may not be called any of them (nor `deploy`). */
export const VERBS = Object.keys(USAGE).filter((verb) => verb !== 'deploy') as Exclude<
  Verb,
  'deploy'
>[];
/** Words between arguments; no service or environment may be called one of them. */
export const KEYWORDS: readonly string[] = ['to', 'at', 'in'];
export const RESERVED_SERVICE_NAMES: readonly string[] = [...VERBS, 'deploy', ...KEYWORDS];

export const ALL_USAGE = (Object.keys(USAGE) as Verb[]).map((verb) => USAGE[verb]).join('\n');

export function helpText(topic?: Verb): string {
  const verbs = topic === undefined ? (Object.keys(USAGE) as Verb[]) : [topic];
  const lines = verbs.map((verb) => `${USAGE[verb]}\n    ${SUMMARY[verb]}`);
  const filterNote =
    "--hosts / --groups: only these hosts or groups of <env>, comma-separated (a host's playbook name, address or short name: parser-03).";
  const notes = [
    '<duration>: 90s, 30m, 2h (or 1h30m).  <time>: 17:00 (next occurrence) or 2026-12-01T17:00+01:00.',
    '<env> defaults to the playbook\'s default_environment. Quote a reason with spaces: "db migration".',
    filterNote,
  ];
  const filtered = topic === 'deploy' || topic === 'restart' || topic === 'rollback';
  return [
    ...lines,
    ...(topic === undefined ? ['', ...notes] : filtered ? ['', filterNote] : []),
  ].join('\n');
}
