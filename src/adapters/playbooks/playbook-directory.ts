import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  parsePlaybookText,
  type Playbook,
  type SourceProblem,
  type TextResult,
  type UnusablePlaybook,
} from '../../core/playbook/index.js';

export interface PlaybookCatalog {
  playbooks: Map<string, Playbook>;
  problems: SourceProblem[];
  /**
   * Files that cannot be used, by the service each was meant for (its `service:` when it can be
   * read, else its name without `.yml`), so that a request for it is told which file and why.
   */
  unusable: Map<string, UnusablePlaybook>;
}

const PLAYBOOK_FILE = /\.ya?ml$/;

/** Far more than any fleet's playbook; reading and parsing more would stall whoever asked. */
export const MAX_PLAYBOOK_BYTES = 1024 * 1024;

function fileProblem(source: string, message: string, hint?: string): SourceProblem {
  return { source, segments: [], path: '(file)', message, ...(hint === undefined ? {} : { hint }) };
}

/** One file's playbook, or its problems: whatever is wrong with a file is that file's alone. */
async function readPlaybookFile(source: string): Promise<TextResult> {
  let text: string;
  try {
    const { size } = await stat(source);
    if (size > MAX_PLAYBOOK_BYTES)
      return {
        ok: false,
        problems: [
          fileProblem(
            source,
            `the file is ${Math.ceil(size / 1024)} KiB; a playbook may be at most ${MAX_PLAYBOOK_BYTES / 1024} KiB`,
            'is it the right file? a playbook describes one service',
          ),
        ],
      };
    text = await readFile(source, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return {
      ok: false,
      problems: [fileProblem(source, `cannot read: ${code}`, 'make it a readable file')],
    };
  }
  return parsePlaybookText(text, source);
}

/** Reads every `*.yml`/`*.yaml` in `directory`; a bad file is reported, never half-loaded. */
export async function loadPlaybookDirectory(directory: string): Promise<PlaybookCatalog> {
  const catalog: PlaybookCatalog = { playbooks: new Map(), problems: [], unusable: new Map() };
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
    const result = await readPlaybookFile(source);
    if (!result.ok) {
      catalog.problems.push(...result.problems);
      const meantFor = result.service ?? name.replace(PLAYBOOK_FILE, '');
      if (!catalog.unusable.has(meantFor))
        catalog.unusable.set(meantFor, { source, problems: result.problems });
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
  }
  return catalog;
}

/**
 * The valid playbook of one service as the directory has it now, or undefined: for a scheduled
 * rollback firing, when a broken file must make that one rollback skip, not fail the firer.
 */
export async function servicePlaybook(
  directory: string,
  service: string,
): Promise<Playbook | undefined> {
  return (await loadPlaybookDirectory(directory)).playbooks.get(service);
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
