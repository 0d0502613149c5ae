import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  parsePlaybookText,
  type Playbook,
  type SourceProblem,
  type UnusablePlaybook,
} from '../../core/playbook/index.js';
import { SshConfigFile } from '../ssh/ssh-config-file.js';

export interface PlaybookCatalog {
  playbooks: Map<string, Playbook>;
  problems: SourceProblem[];
  /** Worth saying, not wrong: settings of an ssh config that baton does not use. */
  notes: SourceProblem[];
  /** Permissive defaults the valid playbooks use (who may deploy, who may approve). */
  warnings: SourceProblem[];
  /** The ssh config files read besides the playbooks. */
  sshConfigs: string[];
  /**
   * Files that cannot be used, by the service each was meant for (its `service:` when it can be
   * read, else its name without `.yml`), so that a request for it is told which file and why.
   */
  unusable: Map<string, UnusablePlaybook>;
}

export interface PlaybookOptions {
  /** BATON_SSH_CONFIG: the ssh config of playbooks that do not name one in ssh.config. */
  sshConfig?: string;
}

/** The options from the environment (or a loaded config), an empty value meaning unset. */
export function playbookOptions(env: { BATON_SSH_CONFIG?: string | undefined }): PlaybookOptions {
  const sshConfig = env.BATON_SSH_CONFIG;
  return sshConfig === undefined || sshConfig === '' ? {} : { sshConfig };
}

const withHome = (path: string): string => path.replace(/^~(?=\/|$)/, homedir());

const PLAYBOOK_FILE = /\.ya?ml$/;

/** Far more than any fleet's playbook; reading and parsing more would stall whoever asked. */
export const MAX_PLAYBOOK_BYTES = 1024 * 1024;

function fileProblem(source: string, message: string, hint?: string): SourceProblem {
  return { source, segments: [], path: '(file)', message, ...(hint === undefined ? {} : { hint }) };
}

/** One file's playbook, or its problems: whatever is wrong with a file is that file's alone. */
async function readPlaybookFile(
  source: string,
): Promise<{ text: string } | { ok: false; problems: SourceProblem[]; service?: string }> {
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
  return { text };
}

/** Reads every `*.yml`/`*.yaml` in `directory`; a bad file is reported, never half-loaded. */
export async function loadPlaybookDirectory(
  directory: string,
  options: PlaybookOptions = {},
): Promise<PlaybookCatalog> {
  const catalog: PlaybookCatalog = {
    playbooks: new Map(),
    problems: [],
    notes: [],
    warnings: [],
    sshConfigs: [],
    unusable: new Map(),
  };
  // Playbooks of one directory usually share one ssh config: read each file once.
  const sshConfigs = new Map<string, Promise<SshConfigFile>>();
  const sshConfig = (path: string) => {
    let read = sshConfigs.get(path);
    if (read === undefined) {
      read = SshConfigFile.read(path);
      sshConfigs.set(path, read);
      catalog.sshConfigs.push(path);
    }
    return read;
  };
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
    const read = await readPlaybookFile(source);
    let result = 'problems' in read ? read : parsePlaybookText(read.text, source);
    // Where the hosts are is known once the playbook is read: read it again with its ssh config.
    const configPath = !result.ok
      ? undefined
      : result.playbook.ssh.config !== undefined
        ? resolve(dirname(source), withHome(result.playbook.ssh.config))
        : options.sshConfig === undefined
          ? undefined
          : resolve(withHome(options.sshConfig));
    if (configPath !== undefined && 'text' in read)
      result = parsePlaybookText(read.text, source, { sshConfig: await sshConfig(configPath) });
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
    catalog.notes.push(...result.notes);
    catalog.warnings.push(...result.warnings);
  }
  return catalog;
}

async function signatureOf(paths: string[]): Promise<string> {
  const stats = await Promise.all(paths.map((path) => stat(path).catch(() => undefined)));
  return paths
    .map((path, index) => `${path}:${stats[index]?.size}:${stats[index]?.mtimeMs}`)
    .join('|');
}

/**
 * A directory read again only when a playbook file changed (name, size or modification time), or
 * an ssh config they were read with: the Slack app looks at playbooks on every command, and
 * parsing them each time costs more than a listing.
 */
export function cachedPlaybookDirectory(
  directory: string,
  options: PlaybookOptions = {},
): () => Promise<PlaybookCatalog> {
  let last: { signature: string; catalog: PlaybookCatalog } | undefined;
  return async () => {
    let files: string[];
    try {
      const names = (await readdir(directory)).filter((name) => PLAYBOOK_FILE.test(name)).sort();
      files = names.map((name) => join(directory, name));
    } catch {
      // Whatever went wrong, reading the directory again says it properly.
      return loadPlaybookDirectory(directory, options);
    }
    const signature = await signatureOf([...files, ...(last?.catalog.sshConfigs ?? [])]);
    if (last?.signature !== signature) {
      const catalog = await loadPlaybookDirectory(directory, options);
      last = { catalog, signature: await signatureOf([...files, ...catalog.sshConfigs]) };
    }
    return last.catalog;
  };
}
