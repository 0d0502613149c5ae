import {
  loadPlaybookDirectory,
  playbookOptions,
} from '../adapters/playbooks/playbook-directory.js';
import { formatSourceProblem } from '../core/playbook/index.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';

export async function validateCommand(directory: string, io: CliIo): Promise<number> {
  const catalog = await loadPlaybookDirectory(directory, playbookOptions(io.env));
  for (const problem of catalog.problems) io.stderr(`${formatSourceProblem(problem)}\n`);
  for (const note of catalog.notes) io.stderr(`note: ${formatSourceProblem(note)}\n`);
  const services = [...catalog.playbooks.keys()];
  if (catalog.problems.length > 0) {
    const files = new Set(catalog.problems.map((problem) => problem.source)).size;
    io.stderr(
      `\n${catalog.problems.length} problem${catalog.problems.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}; ${services.length} playbook${services.length === 1 ? '' : 's'} valid.\n`,
    );
    return EXIT.failed;
  }
  io.stdout(
    `${services.length} playbook${services.length === 1 ? '' : 's'} valid: ${services.join(', ')}\n`,
  );
  return EXIT.ok;
}
