import type { Host, JumpHost } from './model.js';
import { problem, type PathSegment, type Problem } from './problems.js';
import {
  NO_JUMP,
  ON_CONTROLLER,
  parseHopText,
  parseHostText,
  type HostEntry,
  type JumpEntry,
  type PlaybookDocument,
} from './schema.js';

/**
 * How baton reaches each host: its address, port and user, and the jump hosts on the way, from the
 * playbook and an OpenSSH client config. The most specific setting wins: the host entry's own,
 * then what the ssh config says of that name, then its group's, environment's and playbook's.
 */

/** What an OpenSSH client config says of one name, read and checked by whoever read the file. */
export interface SshConfigAnswer {
  hostName?: string;
  user?: string;
  port?: number;
  identityFile?: string;
  /** Hops as written there, outermost first, or 'none'. */
  proxyJump?: string[] | typeof NO_JUMP;
  /** Settings baton cannot honour for this name: ignoring them would reach it some other way. */
  refused: { message: string; hint?: string }[];
  /** Settings baton does not use, each as `Keyword (line N)`, so that they are named, not ignored unseen. */
  ignored: string[];
}

export interface SshConfigView {
  /** The file, as messages name it. */
  file: string;
  /** Problems of the file as a whole (it cannot be read, it has an Include...). */
  problems: { message: string; hint?: string }[];
  /** What the file has that baton does not use, whatever host it is for. */
  notes: string[];
  lookup(name: string): SshConfigAnswer;
}

export interface Reach {
  /** Keyed by `hostKey`. */
  hosts: Map<string, Host>;
  /** The jump hosts a group with hosts_from gives its hosts, keyed by `groupKey`. */
  inventoryJumps: Map<string, JumpHost[]>;
  problems: Problem[];
  notes: Problem[];
}

export const hostKey = (environment: string, group: number, host: number): string =>
  `${environment}/${group}/${host}`;
export const groupKey = (environment: string, group: number): string => `${environment}/${group}`;

/** Where the host a hook runs on is kept in `Reach.hosts` (no environment has a `/` in its name). */
export const hookHostKey = (list: 'before_host' | 'after_host', step: number): string =>
  `${list}/${step}`;

const MAX_HOPS = 8;
const DEFAULT_HOP_PORT = 22;
const NOTHING: SshConfigAnswer = { refused: [], ignored: [] };
const CONFIG_AT: PathSegment[] = ['ssh', 'config'];

function listed(names: Set<string>): string {
  const all = [...names];
  return all.length <= 3
    ? all.join(', ')
    : `${all.slice(0, 3).join(', ')} and ${all.length - 3} more`;
}

class Resolver {
  private readonly problems = new Map<string, Problem>();
  /** Each setting baton does not use, with the names it was found for. */
  private readonly ignored = new Map<string, Set<string>>();

  constructor(
    private readonly document: PlaybookDocument,
    private readonly config: SshConfigView | undefined,
  ) {}

  result(hosts: Map<string, Host>, inventoryJumps: Map<string, JumpHost[]>): Reach {
    const file = this.config?.file ?? '';
    const notes = [
      ...(this.config?.notes ?? []),
      ...[...this.ignored].map(
        ([setting, names]) =>
          `${file}: ${setting} is not used by baton (it applies to ${listed(names)})`,
      ),
    ].map((note) => problem(CONFIG_AT, note));
    for (const trouble of this.config?.problems ?? [])
      this.refuse(CONFIG_AT, `${file}: ${trouble.message}`, trouble.hint);
    return { hosts, inventoryJumps, problems: [...this.problems.values()], notes };
  }

  private refuse(at: PathSegment[], message: string, hint?: string): void {
    const found = problem(at, message, hint);
    this.problems.set(`${found.path}\n${message}`, found);
  }

  private answer(name: string, at: PathSegment[]): SshConfigAnswer {
    if (this.config === undefined) return NOTHING;
    const answer = this.config.lookup(name);
    for (const refusal of answer.refused) this.refuse(at, refusal.message, refusal.hint);
    for (const setting of answer.ignored) {
      const names = this.ignored.get(setting) ?? new Set<string>();
      names.add(name);
      this.ignored.set(setting, names);
    }
    return answer;
  }

  /** `levels`: the jump settings around the host, outermost (the playbook's) first. */
  host(
    entry: HostEntry,
    levels: { jump: JumpEntry | undefined; at: PathSegment[] }[],
    at: PathSegment[],
  ): Host {
    const written =
      typeof entry === 'string'
        ? (parseHostText(entry) as { address: string; port?: number })
        : { address: entry.address, ...(entry.port === undefined ? {} : { port: entry.port }) };
    const answer = this.answer(written.address, at);
    const port = written.port ?? answer.port ?? this.document.ssh.port;
    const shown = written.address.includes(':') ? `[${written.address}]` : written.address;
    const name =
      typeof entry === 'string'
        ? entry
        : (entry.name ?? (entry.port === undefined ? entry.address : `${shown}:${port}`));
    const user = (typeof entry === 'string' ? undefined : entry.user) ?? answer.user;
    const own = typeof entry === 'string' ? undefined : entry.jump;
    const inherited = levels.findLast((level) => level.jump !== undefined);
    const jump =
      own !== undefined
        ? this.hops(own, [...at, 'jump'], [written.address])
        : answer.proxyJump !== undefined
          ? this.hops(answer.proxyJump, at, [written.address])
          : inherited?.jump !== undefined
            ? this.hops(inherited.jump, inherited.at, [written.address])
            : [];
    return {
      name,
      address: answer.hostName ?? written.address,
      port,
      ...(user === undefined ? {} : { user }),
      ...(answer.identityFile === undefined ? {} : { identityFile: answer.identityFile }),
      ...(jump.length === 0 ? {} : { jump }),
    };
  }

  /** The jump hosts the innermost level that sets one gives (none when none does). */
  inherited(levels: { jump: JumpEntry | undefined; at: PathSegment[] }[]): JumpHost[] {
    const level = levels.findLast((candidate) => candidate.jump !== undefined);
    return level?.jump === undefined ? [] : this.hops(level.jump, level.at, []);
  }

  /**
   * The hops of one jump setting. As with OpenSSH's ProxyJump, the first hop is itself reached
   * the way the ssh config says (its own ProxyJump included); the others through the hops before
   * them. `chain` holds the names on the way here, to catch a ProxyJump that leads back.
   */
  private hops(entry: JumpEntry, at: PathSegment[], chain: string[]): JumpHost[] {
    if (entry === NO_JUMP) return [];
    const hops: JumpHost[] = [];
    for (const [index, text] of (typeof entry === 'string' ? [entry] : entry).entries()) {
      const parsed = parseHopText(text);
      if (parsed === undefined) {
        this.refuse(
          at,
          `${this.config?.file ?? ''}: ProxyJump ${text} is not a jump host`,
          "write user@host:port (user and port optional), hops separated by ','",
        );
        continue;
      }
      if (chain.includes(parsed.host)) {
        this.refuse(
          at,
          `the jump hosts lead back to themselves: ${[...chain, parsed.host].join(' → ')}`,
          `in ${this.config?.file ?? 'the ssh config'}, keep ${parsed.host} out of the Host pattern whose ProxyJump names it (e.g. Host * !${parsed.host})`,
        );
        continue;
      }
      const answer = this.answer(parsed.host, at);
      if (index === 0 && answer.proxyJump !== undefined)
        hops.push(...this.hops(answer.proxyJump, at, [...chain, parsed.host]));
      hops.push({
        name: parsed.host,
        address: answer.hostName ?? parsed.host,
        port: parsed.port ?? answer.port ?? DEFAULT_HOP_PORT,
        user: parsed.user ?? answer.user ?? this.document.ssh.user,
        ...(answer.identityFile === undefined ? {} : { identityFile: answer.identityFile }),
      });
    }
    if (hops.length > MAX_HOPS)
      this.refuse(
        at,
        `${hops.length} jump hosts on the way (${hops.map((hop) => hop.name).join(' → ')}); baton goes through at most ${MAX_HOPS}`,
      );
    return hops;
  }
}

/** Every host of the playbook as baton will reach it; problems when the ssh config cannot be followed. */
export function resolveReach(document: PlaybookDocument, config?: SshConfigView): Reach {
  const resolver = new Resolver(document, config);
  const hosts = new Map<string, Host>();
  const inventoryJumps = new Map<string, JumpHost[]>();
  const playbookLevel = { jump: document.ssh.jump, at: ['ssh', 'jump'] };
  for (const [envName, environment] of Object.entries(document.environments)) {
    const envAt = ['environments', envName];
    const envLevel = { jump: environment.ssh?.jump, at: [...envAt, 'ssh', 'jump'] };
    environment.groups.forEach((group, groupIndex) => {
      const groupAt = [...envAt, 'groups', groupIndex];
      const levels = [
        playbookLevel,
        envLevel,
        { jump: group.ssh?.jump, at: [...groupAt, 'ssh', 'jump'] },
      ];
      if (group.hosts_from !== undefined)
        inventoryJumps.set(groupKey(envName, groupIndex), resolver.inherited(levels));
      (group.hosts ?? []).forEach((entry, hostIndex) => {
        hosts.set(
          hostKey(envName, groupIndex, hostIndex),
          resolver.host(entry, levels, [...groupAt, 'hosts', hostIndex]),
        );
      });
    });
  }
  for (const list of ['before_host', 'after_host'] as const) {
    document[list]?.forEach((step, index) => {
      if (step.on === ON_CONTROLLER) return;
      hosts.set(
        hookHostKey(list, index),
        resolver.host(step.on, [playbookLevel], [list, index, 'on']),
      );
    });
  }
  return resolver.result(hosts, inventoryJumps);
}
