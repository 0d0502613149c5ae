import { formatDuration } from '../duration.js';
import { formatInstant } from './time.js';
import { quoteToken } from './tokenize.js';
import type { Command, TargetFilter } from './types.js';

function filterWords(filter: TargetFilter): string[] {
  return [
    ...(filter.hosts === undefined ? [] : ['--hosts', filter.hosts.join(',')]),
    ...(filter.groups === undefined ? [] : ['--groups', filter.groups.join(',')]),
  ];
}

function env(environment: string | undefined): string[] {
  return environment === undefined ? [] : ['to', environment];
}

/** The canonical text of a command (without `/deploy`); parseCommand reads it back unchanged. */
export function formatCommand(command: Command): string {
  const words: string[] = [];
  switch (command.verb) {
    case 'deploy':
      words.push(
        quoteToken(command.service),
        quoteToken(command.version),
        ...env(command.environment),
      );
      if (command.dryRun) words.push('--dry-run');
      if (command.rollbackAfterMs !== undefined) {
        words.push('--rollback-after', formatDuration(command.rollbackAfterMs));
      }
      words.push(...filterWords(command));
      break;
    case 'rollback':
      words.push('rollback', command.service);
      if (command.version !== undefined) words.push(quoteToken(command.version));
      words.push(...env(command.environment));
      if (command.schedule?.kind === 'at') words.push('at', formatInstant(command.schedule.runAt));
      if (command.schedule?.kind === 'in')
        words.push('in', formatDuration(command.schedule.delayMs));
      words.push(...filterWords(command));
      break;
    case 'lock':
      words.push('lock', command.service, ...env(command.environment));
      if (command.reason !== undefined) words.push(quoteToken(command.reason));
      break;
    case 'restart':
      words.push('restart', command.service, ...env(command.environment), ...filterWords(command));
      break;
    case 'history':
    case 'cancel':
    case 'unlock':
      words.push(command.verb, command.service, ...env(command.environment));
      break;
    case 'status':
      words.push('status', ...(command.service === undefined ? [] : [command.service]));
      break;
    case 'schedules':
      words.push('schedules');
      break;
    case 'help':
      words.push('help', ...(command.topic === undefined ? [] : [command.topic]));
      break;
  }
  return words.join(' ');
}
