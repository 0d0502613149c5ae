import type { RolloutUpdate } from '../../app/worker/run-rollout.js';
import { describeUpdate } from './describe-update.js';
import { groupLines } from './group-lines.js';

export type Reporter = (update: RolloutUpdate) => void;

/** A line per notable update: for logs and pipes. */
export function plainReporter(write: (text: string) => void): Reporter {
  return (update) => {
    const line = describeUpdate(update);
    if (line !== undefined) write(`${line}\n`);
  };
}

const ENDS = new Set(['rollout.started', 'rollout.completed', 'rollout.halted']);

/** One JSON object per line, every update, for scripts. */
export function jsonReporter(write: (text: string) => void, worker: string): Reporter {
  return (update) => {
    const body = update.kind === 'event' ? update.event : { ...update.announcement, at: update.at };
    // The start and the end name the hosts max_unreachable left out, so a script can follow up.
    const left = update.state.plan.notUpdated ?? [];
    const notUpdated =
      update.kind === 'announcement' && left.length > 0 && ENDS.has(update.announcement.type)
        ? { notUpdated: left.map((host) => host.host) }
        : {};
    write(
      `${JSON.stringify({ ...body, ...notUpdated, rollout: update.state.id, status: update.state.status, worker: update.worker ?? worker })}\n`,
    );
  };
}

/** Group lines redrawn in place, with notable lines scrolling above them. */
export function ttyReporter(write: (text: string) => void, now: () => number): Reporter {
  let drawn = 0;
  return (update) => {
    const line = describeUpdate(update);
    const important =
      line !== undefined &&
      (update.kind === 'announcement' || /FAILED|TIMED OUT|NOT HEALTHY/.test(line));
    let out = drawn > 0 ? `\x1b[${drawn}F\x1b[0J` : '';
    if (important) out += `${line}\n`;
    const lines = groupLines(update.state, now());
    out += `${lines.join('\n')}\n`;
    drawn = lines.length;
    write(out);
  };
}
