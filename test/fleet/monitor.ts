import { readFile } from 'node:fs/promises';
import type { FleetHost } from './fleet.js';

export interface MonitorReport {
  /** The most hosts down at the same moment. */
  maxDown: number;
  /** Per host, how many times it went from serving to down. */
  restarts: Record<string, number>;
  /** Host names in the order they first went down. */
  downOrder: string[];
  /** After each change on any host, the names of the hosts that were down. */
  downSets: string[][];
}

interface JournalEntry {
  /** Microseconds on the monotonic clock, which every process on the machine shares. */
  at: number;
  serving: boolean;
  host: string;
}

function now(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

async function journalOf(host: FleetHost): Promise<JournalEntry[]> {
  const text = await readFile(host.journal, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => ({
      ...(JSON.parse(line) as { at: number; serving: boolean }),
      host: host.name,
    }));
}

/**
 * Tells when each host was down between its creation and `stop()`, from the journal each host's
 * service keeps of its own state: exact, and independent of baton and of how loaded the machine is.
 */
export class FleetMonitor {
  private readonly since = now();

  constructor(private readonly hosts: FleetHost[]) {}

  async stop(): Promise<MonitorReport> {
    const until = now();
    const journals = await Promise.all(this.hosts.map(journalOf));
    const report: MonitorReport = { maxDown: 0, restarts: {}, downOrder: [], downSets: [] };
    const serving = new Map<string, boolean>();
    for (const [index, host] of this.hosts.entries()) {
      report.restarts[host.name] = 0;
      const before = (journals[index] ?? []).filter((entry) => entry.at <= this.since);
      serving.set(host.name, before.at(-1)?.serving ?? true);
    }
    const downNow = () => this.hosts.map((host) => host.name).filter((name) => !serving.get(name));
    report.downSets.push(downNow());
    report.maxDown = downNow().length;
    const changes = journals
      .flat()
      .filter((entry) => entry.at > this.since && entry.at <= until)
      .sort((a, b) => a.at - b.at);
    for (const change of changes) {
      if (serving.get(change.host) === true && !change.serving) {
        report.restarts[change.host] = (report.restarts[change.host] ?? 0) + 1;
        if (!report.downOrder.includes(change.host)) report.downOrder.push(change.host);
      }
      serving.set(change.host, change.serving);
      const down = downNow();
      report.downSets.push(down);
      report.maxDown = Math.max(report.maxDown, down.length);
    }
    return report;
  }
}
