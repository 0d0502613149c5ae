import { describe, expect, it } from 'vitest';
import { rollbackVersion, runningVersion } from '../../src/app/history.js';
import type { HistoryEntry } from '../../src/app/store-ports.js';

function entry(
  version: string,
  result: HistoryEntry['result'],
  kind: HistoryEntry['kind'] = 'deploy',
): HistoryEntry {
  return {
    service: 's',
    environment: 'e',
    rollout: version,
    kind,
    version,
    previousVersion: null,
    by: 'U1',
    startedAt: 0,
    finishedAt: 0,
    result,
  };
}

describe('history', () => {
  it.each<[string, HistoryEntry[], string | null, string | null]>([
    ['nothing deployed yet', [], null, null],
    ['one good deploy', [entry('v1', 'succeeded')], 'v1', null],
    ['two good deploys', [entry('v2', 'succeeded'), entry('v1', 'succeeded')], 'v2', 'v1'],
    [
      'a failed deploy on top changes nothing',
      [entry('v3', 'rolled_back'), entry('v2', 'succeeded'), entry('v1', 'succeeded')],
      'v2',
      'v1',
    ],
    [
      'a redeploy of the same version is skipped',
      [entry('v2', 'succeeded'), entry('v2', 'succeeded'), entry('v1', 'succeeded')],
      'v2',
      'v1',
    ],
    [
      'after a rollback, rolling back again goes forward to the newer good version',
      [entry('v1', 'succeeded', 'rollback'), entry('v2', 'succeeded'), entry('v1', 'succeeded')],
      'v1',
      'v2',
    ],
    [
      'unreachable hosts do not count',
      [entry('v4', 'cannot_connect'), entry('v3', 'succeeded')],
      'v3',
      null,
    ],
  ])('%s', (_, entries, running, back) => {
    expect(runningVersion(entries)).toBe(running);
    expect(rollbackVersion(entries)).toBe(back);
  });
});
