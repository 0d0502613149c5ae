import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import SSHConfig, { glob, LineType, type Line } from 'ssh-config';
import type { SshConfigAnswer, SshConfigView } from '../../core/playbook/index.js';

/**
 * An OpenSSH client config (ssh_config(5)) as baton reads it: the Host blocks (and the settings
 * before the first one) give HostName, User, Port, IdentityFile and ProxyJump. Everything else is
 * named rather than dropped unseen, and what would make ssh reach a host some other way
 * (ProxyCommand, Include, Match) is refused.
 */

export interface SshConfigOptions {
  /** For `~` and %d in IdentityFile. */
  home?: string;
  /** For %u in IdentityFile. */
  localUser?: string;
}

interface Setting {
  keyword: string;
  /** As ssh_config(5) spells it, for messages. */
  written: string;
  value: string;
  line: number;
}

interface Block {
  /** Undefined: before any Host line, so for every host. */
  patterns?: string[];
  settings: Setting[];
}

const USED = new Set(['hostname', 'user', 'port', 'identityfile', 'proxyjump']);
const ROUTE = new Set([...USED, 'proxycommand']);

const valueText = (value: string | { val: string }[]): string =>
  typeof value === 'string' ? value : value.map((part) => part.val).join(' ');

const newlines = (text: string): number => text.split('\n').length - 1;

/** The file's directives in order, each with its line, and the Host/Match blocks they are in. */
function blocksOf(config: SSHConfig): {
  blocks: Block[];
  includes: number[];
  matches: { line: number; settings: Setting[] }[];
} {
  const blocks: Block[] = [{ settings: [] }];
  const includes: number[] = [];
  const matches: { line: number; settings: Setting[] }[] = [];
  let line = 1;
  const visit = (lines: Line[], into: Setting[] | undefined) => {
    for (const entry of lines) {
      line += newlines(entry.before);
      const at = line;
      if (entry.type === LineType.COMMENT) line += newlines(entry.content);
      line += newlines(entry.after);
      if (entry.type !== LineType.DIRECTIVE) continue;
      const keyword = entry.param.toLowerCase();
      const setting = { keyword, written: entry.param, value: valueText(entry.value), line: at };
      if ('config' in entry && (keyword === 'host' || keyword === 'match')) {
        const settings: Setting[] = [];
        if (keyword === 'host') {
          const patterns = Array.isArray(entry.value)
            ? entry.value.map((part) => part.val)
            : entry.value.split(/\s+/);
          blocks.push({ patterns: patterns.map((pattern) => pattern.toLowerCase()), settings });
        } else matches.push({ line: at, settings });
        visit(entry.config, settings);
        continue;
      }
      if (keyword === 'include') includes.push(at);
      (into ?? blocks[0]?.settings)?.push(setting);
    }
  };
  visit(config, undefined);
  return { blocks, includes, matches };
}

export class SshConfigFile implements SshConfigView {
  readonly problems: { message: string; hint?: string }[] = [];
  readonly notes: string[] = [];
  private blocks: Block[] = [];

  private constructor(
    readonly file: string,
    private readonly options: Required<SshConfigOptions>,
  ) {}

  /** Reads `file`; a file that cannot be read or followed says so in `problems`. */
  static async read(file: string, options: SshConfigOptions = {}): Promise<SshConfigFile> {
    const config = new SshConfigFile(file, {
      home: options.home ?? homedir(),
      localUser: options.localUser ?? userInfo().username,
    });
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      config.problems.push({
        message: `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        hint: 'fix ssh.config (relative to the playbook) or BATON_SSH_CONFIG',
      });
      return config;
    }
    config.take(SSHConfig.parse(text));
    return config;
  }

  private take(parsed: SSHConfig): void {
    const { blocks, includes, matches } = blocksOf(parsed);
    this.blocks = blocks;
    for (const line of includes)
      this.problems.push({
        message: `Include (line ${line}) is not followed by baton, so hosts described in the included files would be reached by their names alone`,
        hint: 'put the Host blocks of these hosts in one file and point ssh.config at it',
      });
    for (const match of matches) {
      const route = match.settings.filter((setting) => ROUTE.has(setting.keyword));
      if (route.length > 0)
        this.problems.push({
          message: `the Match block at line ${match.line} sets ${route.map((setting) => setting.written).join(', ')}, and baton reads Host blocks only`,
          hint: 'write it as a Host block',
        });
      else
        this.notes.push(`${this.file}: the Match block at line ${match.line} is not used by baton`);
    }
  }

  /** What the file says of `name`: the first value of each setting wins, as with ssh. */
  lookup(name: string): SshConfigAnswer {
    const chosen = new Map<string, Setting>();
    const answer: SshConfigAnswer = { refused: [], ignored: [] };
    const identities: Setting[] = [];
    for (const block of this.blocks) {
      if (block.patterns !== undefined && !glob(block.patterns, name.toLowerCase())) continue;
      for (const setting of block.settings) {
        if (setting.keyword === 'identityfile') identities.push(setting);
        else if (!USED.has(setting.keyword) && setting.keyword !== 'proxycommand') {
          if (setting.keyword !== 'include')
            answer.ignored.push(`${setting.written} (line ${setting.line})`);
        } else if (!chosen.has(setting.keyword)) chosen.set(setting.keyword, setting);
      }
    }
    const get = (keyword: string) => chosen.get(keyword);
    const refuse = (setting: Setting, message: string, hint?: string) =>
      answer.refused.push({
        message: `${this.file}:${setting.line}: ${setting.written} ${setting.value} ${message}`,
        ...(hint === undefined ? {} : { hint }),
      });
    const proxyCommand = get('proxycommand');
    if (proxyCommand !== undefined && proxyCommand.value.toLowerCase() !== 'none')
      refuse(
        proxyCommand,
        `applies to ${name}, and baton does not run proxy commands`,
        'reach it with ProxyJump instead (or jump: in the playbook)',
      );
    const hostName = get('hostname');
    if (hostName !== undefined) {
      const expanded = this.expand(hostName, { h: name });
      if (expanded === undefined)
        refuse(hostName, 'uses a % token baton does not expand', 'write the address, or use %h');
      else answer.hostName = expanded;
    }
    const user = get('user');
    if (user !== undefined) {
      if (user.value.includes('%')) refuse(user, 'uses a % token baton does not expand');
      else answer.user = user.value;
    }
    const port = get('port');
    if (port !== undefined) {
      const number = /^\d{1,5}$/.test(port.value) ? Number(port.value) : 0;
      if (number < 1 || number > 65_535) refuse(port, 'is not a port number');
      else answer.port = number;
    }
    const [identity, ...others] = identities;
    if (identity !== undefined) {
      const path = this.expand(identity, {
        h: answer.hostName ?? name,
        d: this.options.home,
        u: this.options.localUser,
      });
      if (path === undefined)
        refuse(identity, 'uses a % token baton does not expand', 'use ~, %d, %u or %h, or a path');
      else answer.identityFile = this.absolute(path);
    }
    // ssh would try them in turn; baton logs in with one key.
    for (const other of others)
      answer.ignored.push(`another ${other.written} (line ${other.line})`);
    const proxyJump = get('proxyjump');
    if (proxyJump !== undefined)
      answer.proxyJump =
        proxyJump.value.toLowerCase() === 'none'
          ? 'none'
          : proxyJump.value.split(',').map((hop) => hop.trim());
    return answer;
  }

  /** `~` and the % tokens given; undefined when the value has another token. */
  private expand(setting: Setting, tokens: Record<string, string>): string | undefined {
    let unknown = false;
    const value = setting.value.replace(/^~(?=\/|$)/, this.options.home);
    const expanded = value.replace(/%(.)/g, (_, token: string) => {
      if (token === '%') return '%';
      const replacement = tokens[token];
      if (replacement === undefined) unknown = true;
      return replacement ?? '';
    });
    return unknown ? undefined : expanded;
  }

  /** A relative IdentityFile is taken from the directory of the config file, not from where baton runs. */
  private absolute(path: string): string {
    return isAbsolute(path) ? path : resolve(dirname(this.file), path);
  }
}
