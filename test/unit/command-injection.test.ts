import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { checkInjection, injectionInput, type Outcome } from '../support/injection-property.js';
import { PosixShell } from '../support/posix-shell.js';

const shell = new PosixShell();
afterAll(() => shell.close());

describe('from Slack text to the shell on a host', () => {
  it('a real shell sees exactly the intended words, or the input is refused (1,000 runs; npm run fuzz runs 100,000)', async () => {
    const outcomes: Record<Outcome, number> = {
      'grammar refused': 0,
      'playbook refused': 0,
      'planner refused': 0,
      ran: 0,
    };
    await fc.assert(
      fc.asyncProperty(injectionInput, async (input) => {
        outcomes[await checkInjection(input, shell)] += 1;
      }),
      { numRuns: 1000 },
    );
    // The generators must reach the shell often enough for the runs to mean something.
    expect(outcomes.ran).toBeGreaterThan(100);
  });
});
