import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handleAction, type ActionId } from '../../src/app/chatops/handle-action.js';
import { handleCommand } from '../../src/app/chatops/handle-command.js';
import { render } from '../../src/app/outbox/render.js';
import { expireAndFollowUp } from '../../src/app/use-cases/decide-approval.js';
import { fireScheduledRollback } from '../../src/app/use-cases/fire-scheduled-rollback.js';
import { ChatWorld, twoGroups, type ChatFault } from '../support/chat-world.js';
import { deployedBefore } from '../support/history.js';

type Step = (world: ChatWorld) => Promise<void>;

const command =
  (user: string, text: string): Step =>
  async (world) =>
    handleCommand(world.front, text, world.from(user));
const click =
  (user: string, action: ActionId, value: (world: ChatWorld) => Promise<string>): Step =>
  async (world) =>
    handleAction(world.front, action, await value(world), world.from(user));
const seed =
  (environment: string, ...versions: string[]): Step =>
  (world) =>
    deployedBefore(world.history, { service: 'parser', environment }, ...versions);
const approval = async (world: ChatWorld) => (await world.deps.requests.pending())[0]?.id ?? '';
/** The first request of a world: ids are handed out in order. */
const firstRequest = async () => 'id-1';
const lastRollout = async (world: ChatWorld) => world.queue.jobs.at(-1)?.rollout ?? '';
const keep = async (world: ChatWorld) => `keep-${world.queue.jobs.at(-1)?.rollout ?? ''}`;

interface Flow {
  name: string;
  gate?: boolean;
  steps: Step[];
}

/** The flows a team goes through in chat, each a few commands and clicks. */
const FLOWS: Flow[] = [
  {
    name: 'request, approve, done',
    steps: [command('UALICE', 'parser v2'), click('UBOB', 'approval.approve', approval)],
  },
  {
    name: 'request, reject',
    steps: [command('UALICE', 'parser v2'), click('UBOB', 'approval.reject', approval)],
  },
  {
    name: 'request, withdraw',
    steps: [command('UALICE', 'parser v2'), click('UALICE', 'approval.withdraw', approval)],
  },
  {
    name: 'expiry, and a late click',
    steps: [
      command('UALICE', 'parser v2'),
      async (world) => {
        world.clock.advance(31 * 60_000);
        await expireAndFollowUp(world.deps, () => {});
      },
      click('UBOB', 'approval.approve', firstRequest),
    ],
  },
  {
    name: 'cancel a running rollout',
    steps: [
      seed('staging', 'v1'),
      async (world) => {
        world.hosts.hold = true;
        await handleCommand(world.front, 'parser v2 to staging', world.from('UCAROL'));
        await world.hosts.whenStarted(1);
      },
      command('UBOB', 'cancel parser to staging'),
      async (world) => world.hosts.release(),
    ],
  },
  {
    name: 'continue at a gate',
    gate: true,
    steps: [
      command('UCAROL', 'parser v2 to staging'),
      click('UBOB', 'rollout.continue', lastRollout),
    ],
  },
  {
    name: 'abort at a gate',
    gate: true,
    steps: [
      seed('staging', 'v1'),
      command('UCAROL', 'parser v2 to staging'),
      click('UBOB', 'rollout.abort', lastRollout),
    ],
  },
  {
    name: 'a scheduled rollback asks for approval when it fires',
    steps: [
      seed('production', 'v1', 'v2'),
      command('UALICE', 'rollback parser in 1m'),
      async (world) => {
        const [due] = await world.deps.schedules.open();
        if (due !== undefined) await fireScheduledRollback(world.deps, due, 'worker-1');
      },
      click('UBOB', 'approval.approve', approval),
    ],
  },
  {
    name: 'the dead-man switch, kept',
    steps: [
      seed('staging', 'v1'),
      command('UCAROL', 'parser v2 to staging --rollback-after 10m'),
      click('UBOB', 'schedule.keep', keep),
    ],
  },
];

/** Times differ with how the event loop turned; what happened, and in what words, may not. */
const TIMES = new Set([
  'at',
  'since',
  'startedAt',
  'finishedAt',
  'updatedAt',
  'createdAt',
  'requestedAt',
  'decidedAt',
  'expiresAt',
  'runAt',
  'due',
]);
const timeless = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value), (key, item: unknown) => (TIMES.has(key) ? undefined : item));

async function outcome(world: ChatWorld) {
  const audit = world.history.audit.map((entry) => JSON.stringify(timeless(entry))).sort();
  const schedules = [...world.schedules.records.values()];
  return timeless({
    audit,
    jobs: world.queue.jobs,
    history: world.history.entries,
    schedules,
    rollouts: await Promise.all(
      world.queue.jobs.map(async (job) => (await world.deps.rollouts.load(job.rollout))?.status),
    ),
  });
}

/** Each message's last delivered version is its rendering from the final state. */
async function stale(world: ChatWorld): Promise<string[]> {
  const wrong: string[] = [];
  for (const key of world.outbox.records.keys()) {
    const record = await world.deps.outbox.get(key);
    if (record === undefined) continue;
    const rendered = await render({ ...world.deps, clock: world.deliveryClock }, record.view);
    if (rendered === undefined) continue;
    if (record.to.kind === 'reply') {
      const to = record.to;
      if (!world.chat.replies.some((reply) => reply.url === to.responseUrl))
        wrong.push(`${key}: never answered`);
      continue;
    }
    const shown = record.ref === undefined ? undefined : world.chat.latest(record.ref.ts);
    if (JSON.stringify(shown) !== JSON.stringify(rendered.message))
      wrong.push(`${key}: shows an older version`);
  }
  return wrong;
}

async function play(
  flow: Flow,
  faults: (ChatFault | null)[],
  sweepsAfter: number[],
): Promise<ChatWorld> {
  const world = new ChatWorld([twoGroups({ gate: flow.gate === true })]);
  world.chat.fault = (index) => faults[index] ?? undefined;
  for (const [index, step] of flow.steps.entries()) {
    await step(world);
    if (!world.hosts.hold) await world.rolloutsIdle();
    await world.deliver(sweepsAfter[index] ?? 0);
  }
  await world.rolloutsIdle();
  await world.deliver();
  return world;
}

describe('chat faults change nothing but when messages arrive', () => {
  for (const flow of FLOWS) {
    it(flow.name, async () => {
      const baseline = await play(
        flow,
        [],
        flow.steps.map(() => Infinity),
      );
      const expected = await outcome(baseline);
      expect(await stale(baseline)).toEqual([]);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.option(fc.constantFrom<ChatFault>('429', '500', 'timeout'), { nil: null }), {
            maxLength: 30,
          }),
          fc.array(fc.nat({ max: 3 }), { maxLength: flow.steps.length }),
          async (faults, sweepsAfter) => {
            const world = await play(flow, faults, sweepsAfter);
            expect(await outcome(world)).toEqual(expected);
            expect(await stale(world)).toEqual([]);
            expect(world.warnings).toEqual([]);
          },
        ),
        { numRuns: 50 },
      );
    });
  }
});
