import type { ScheduledRollback } from '../../../src/app/jobs.js';
import {
  OPEN_SCHEDULE,
  type ScheduleCreated,
  type ScheduleRecord,
  type ScheduleStatus,
  type ScheduleStore,
} from '../../../src/app/schedule-ports.js';

/** Scheduled rollbacks in memory, for tests; it passes the ScheduleStore contract suite. */
export class InMemoryScheduleStore implements ScheduleStore {
  readonly records = new Map<string, ScheduleRecord>();

  async create(
    schedule: ScheduledRollback,
    options: { replace: boolean; at: number; by: string },
  ): Promise<ScheduleCreated> {
    if (this.records.has(schedule.id)) return { ok: true, added: false, replaced: [] };
    const open = [...this.records.values()]
      .filter(
        (item) =>
          item.service === schedule.service &&
          item.environment === schedule.environment &&
          OPEN_SCHEDULE.includes(item.status),
      )
      .sort((a, b) => a.runAt - b.runAt);
    const first = open[0];
    if (first !== undefined && !options.replace)
      return { ok: false, existing: structuredClone(first) };
    const replaced: ScheduleRecord[] = [];
    for (const item of open.filter((candidate) => candidate.status === 'pending')) {
      item.status = 'replaced';
      item.settled = { by: options.by, at: options.at };
      replaced.push(structuredClone(item));
    }
    this.records.set(schedule.id, { ...structuredClone(schedule), status: 'pending' });
    return { ok: true, added: true, replaced };
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const found = this.records.get(id);
    return found === undefined ? undefined : structuredClone(found);
  }

  async open(): Promise<ScheduleRecord[]> {
    return [...this.records.values()]
      .filter((item) => OPEN_SCHEDULE.includes(item.status))
      .sort((a, b) => a.runAt - b.runAt)
      .map((item) => structuredClone(item));
  }

  async transition(
    id: string,
    from: readonly ScheduleStatus[],
    change: Pick<ScheduleRecord, 'status'> & Partial<Pick<ScheduleRecord, 'settled' | 'firing'>>,
  ): Promise<ScheduleRecord | undefined> {
    const found = this.records.get(id);
    if (found === undefined || !from.includes(found.status)) return undefined;
    Object.assign(found, structuredClone(change));
    return structuredClone(found);
  }
}
