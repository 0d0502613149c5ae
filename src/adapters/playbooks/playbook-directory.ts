import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePlaybookText, type Playbook, type SourceProblem } from '../../core/playbook/index.js';

export interface PlaybookCatalog {
  playbooks: Map<string, Playbook>;
  problems: SourceProblem[];
  /** Permissive defaults the valid playbooks use (who may deploy, who may approve). */
  warnings: SourceProblem[];
}

const PLAYBOOK_FILE = /\.ya?ml$/;

function fileProblem(source: string, message: string, hint?: string): SourceProblem {
  return { source, segments: [], path: '(file)', message, ...(hint === undefined ? {} : { hint }) };
}

/** Reads every `*.yml`/`*.yaml` in `directory`; a bad file is reported, never half-loaded. */
export async function loadPlaybookDirectory(directory: string): Promise<PlaybookCatalog> {
  const catalog: PlaybookCatalog = { playbooks: new Map(), problems: [], warnings: [] };
  let names: string[];
  try {
    names = (await readdir(directory)).filter((name) => PLAYBOOK_FILE.test(name)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    catalog.problems.push(
      fileProblem(
        directory,
        code === 'ENOENT' ? 'no such directory' : `cannot read: ${code ?? String(error)}`,
        'set BATON_PLAYBOOKS or pass --playbooks DIR',
      ),
    );
    return catalog;
  }
  if (names.length === 0) {
    catalog.problems.push(
      fileProblem(
        directory,
        'no playbooks (*.yml) here',
        'write one per service; see playbooks/parser.yml',
      ),
    );
  }
  const sources = new Map<string, string>();
  for (const name of names) {
    const source = join(directory, name);
    const result = parsePlaybookText(await readFile(source, 'utf8'), source);
    if (!result.ok) {
      catalog.problems.push(...result.problems);
      continue;
    }
    const { service } = result.playbook;
    const first = sources.get(service);
    if (first !== undefined) {
      catalog.problems.push(
        fileProblem(
          source,
          `service '${service}' is already defined in ${first}`,
          'keep one playbook per service',
        ),
      );
      continue;
    }
    sources.set(service, source);
    catalog.playbooks.set(service, result.playbook);
    catalog.warnings.push(...result.warnings);
  }
  return catalog;
}

/**
 * A directory read again only when a playbook file changed (name, size or modification time):
 * the Slack app looks at playbooks on every command, and parsing them each time costs more than
 * a listing.
 */
export function cachedPlaybookDirectory(directory: string): () => Promise<PlaybookCatalog> {
  let last: { signature: string; catalog: PlaybookCatalog } | undefined;
  return async () => {
    let signature: string;
    try {
      const names = (await readdir(directory)).filter((name) => PLAYBOOK_FILE.test(name)).sort();
      const stats = await Promise.all(names.map((name) => stat(join(directory, name))));
      signature = names
        .map((name, index) => `${name}:${stats[index]?.size}:${stats[index]?.mtimeMs}`)
        .join('|');
    } catch {
      // Whatever went wrong, reading the directory again says it properly.
      return loadPlaybookDirectory(directory);
    }
    if (last?.signature !== signature)
      last = { signature, catalog: await loadPlaybookDirectory(directory) };
    return last.catalog;
  };
}
