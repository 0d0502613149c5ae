import {
  loadPlaybookDirectory,
  playbookOptions,
} from '../adapters/playbooks/playbook-directory.js';
import { formatSourceProblem, formatSourceWarning } from '../core/playbook/index.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/**
 * `baton validate [dir] [--strict]`: every problem of every playbook, and every permissive
 * default in use (who may deploy or approve) as a warning; `--strict` counts warnings as problems.
 */
export async function validateCommand(
  directory: string,
  options: { strict?: boolean },
  io: CliIo,
): Promise<number> {
  const catalog = await loadPlaybookDirectory(directory, playbookOptions(io.env));
  const strict = options.strict === true;
  for (const problem of catalog.problems) io.stderr(`${formatSourceProblem(problem)}\n`);
  for (const warning of catalog.warnings)
    io.stderr(`${strict ? formatSourceProblem(warning) : formatSourceWarning(warning)}\n`);
  for (const note of catalog.notes) io.stderr(`note: ${formatSourceProblem(note)}\n`);
  const services = [...catalog.playbooks.keys()];
  const problems = [...catalog.problems, ...(strict ? catalog.warnings : [])];
  if (problems.length > 0) {
    const files = new Set(problems.map((problem) => problem.source)).size;
    const valid =
      services.length - new Set(strict ? catalog.warnings.map((w) => w.source) : []).size;
    io.stderr(
      `\n${plural(problems.length, 'problem')} in ${plural(files, 'file')}; ${plural(valid, 'playbook')} valid.\n`,
    );
    return EXIT.failed;
  }
  if (catalog.warnings.length > 0)
    io.stderr(
      `${plural(catalog.warnings.length, 'warning')}: the playbooks are valid and do what these say (--strict counts warnings as problems).\n`,
    );
  io.stdout(`${plural(services.length, 'playbook')} valid: ${services.join(', ')}\n`);
  return EXIT.ok;
}
