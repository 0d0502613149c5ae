import { request } from 'node:http';
import type { FleetHost } from './fleet.js';

export interface MonitorReport {
  /** The most hosts seen down in one sweep. */
  maxDown: number;
  /** Per host, how many times it went from up to down. */
  restarts: Record<string, number>;
  /** Host names in the order they first went down. */
  downOrder: string[];
  /** Per sweep, the names of the hosts that were down. */
  sweeps: string[][];
}

function isUp(host: FleetHost, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const call = request(
      {
        host: host.address,
        port: host.httpPort,
        path: '/health',
        timeout: timeoutMs,
        agent: false,
      },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    call.on('timeout', () => call.destroy());
    call.on('error', () => resolve(false));
    call.end();
  });
}

/** Watches every host's /health on its own (about every 50 ms), independently of baton. */
export class FleetMonitor {
  private running = true;
  private readonly up = new Map<string, boolean>();
  private readonly report: MonitorReport = { maxDown: 0, restarts: {}, downOrder: [], sweeps: [] };
  private readonly loop: Promise<void>;

  constructor(
    private readonly hosts: FleetHost[],
    private readonly intervalMs = 50,
  ) {
    for (const host of hosts) this.report.restarts[host.name] = 0;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      const states = await Promise.all(this.hosts.map((host) => isUp(host, 300)));
      const down: string[] = [];
      this.hosts.forEach((host, index) => {
        const upNow = states[index] === true;
        if (!upNow) down.push(host.name);
        if (this.up.get(host.name) === true && !upNow) {
          this.report.restarts[host.name] = (this.report.restarts[host.name] ?? 0) + 1;
          if (!this.report.downOrder.includes(host.name)) this.report.downOrder.push(host.name);
        }
        this.up.set(host.name, upNow);
      });
      this.report.sweeps.push(down);
      this.report.maxDown = Math.max(this.report.maxDown, down.length);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, this.intervalMs - (Date.now() - started))),
      );
    }
  }

  async stop(): Promise<MonitorReport> {
    this.running = false;
    await this.loop;
    return this.report;
  }
}
