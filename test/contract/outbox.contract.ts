import { describe, expect, it } from 'vitest';
import type { MessageView, OutboxMessage, OutboxStore } from '../../src/app/outbox/ports.js';

const message = (key: string, createdAt: number): OutboxMessage => ({
  key,
  to: { kind: 'channel', channel: 'C1', replyUrl: 'http://127.0.0.1:9/reply' },
  view: { kind: 'rollout', rollout: key, requestedBy: 'UALICE' },
  createdAt,
});
const ended: MessageView = {
  kind: 'rollout',
  rollout: 'm1',
  requestedBy: 'UALICE',
  end: { kind: 'finished' },
};
const delivered = { ref: { channel: 'C1', ts: '1.1' }, notBefore: 0, attempts: 0 };

/** What every OutboxStore must do; run against Redis, the embedded database and memory. */
export function outboxContract(
  name: string,
  make: () => Promise<{ outbox: OutboxStore; pass(ms: number): Promise<void> }>,
): void {
  describe(`OutboxStore contract: ${name}`, () => {
    it('adds a message once, and lists unsettled ones oldest first', async () => {
      const { outbox } = await make();
      expect(await outbox.add(message('m2', 20))).toBe(true);
      expect(await outbox.add(message('m1', 10))).toBe(true);
      expect(await outbox.add({ ...message('m1', 99), view: ended })).toBe(false);
      const listed = await outbox.unsettled(10);
      expect(listed.map((record) => record.key)).toEqual(['m1', 'm2']);
      expect(listed[0]).toMatchObject({
        ...message('m1', 10),
        notBefore: 0,
        attempts: 0,
        settled: false,
      });
      expect((await outbox.unsettled(1)).map((record) => record.key)).toEqual(['m1']);
      expect(await outbox.get('nope')).toBeUndefined();
    });

    it('keeps what an attempt delivered, and settles the message when told', async () => {
      const { outbox } = await make();
      await outbox.add(message('m1', 10));
      const view = message('m1', 10).view;
      const sent = { digest: '3|false', milestone: 'running', at: 5 };
      await outbox.record('m1', { ...delivered, sent, settled: false, error: 'x' }, view);
      expect(await outbox.get('m1')).toMatchObject({ ref: delivered.ref, sent, error: 'x' });
      await outbox.record('m1', { ...delivered, sent, settled: true }, view);
      const settled = await outbox.get('m1');
      expect(settled?.settled).toBe(true);
      expect(settled?.error).toBeUndefined();
      expect(await outbox.unsettled(10)).toEqual([]);
    });

    it('never lets an attempt settle a message whose view changed since it began', async () => {
      const { outbox } = await make();
      await outbox.add(message('m1', 10));
      const before = message('m1', 10).view;
      await outbox.change('m1', ended);
      await outbox.record('m1', { ...delivered, settled: true }, before);
      expect((await outbox.get('m1'))?.settled).toBe(false);
      expect((await outbox.get('m1'))?.view).toEqual(ended);
      await outbox.record('m1', { ...delivered, settled: true }, ended);
      expect((await outbox.get('m1'))?.settled).toBe(true);
    });

    it('makes a settled message due again when its view changes', async () => {
      const { outbox } = await make();
      await outbox.add(message('m1', 10));
      await outbox.record('m1', { ...delivered, settled: true }, message('m1', 10).view);
      await outbox.change('m1', ended);
      expect((await outbox.unsettled(10)).map((record) => [record.key, record.ref])).toEqual([
        ['m1', delivered.ref],
      ]);
    });

    it('gives the duty of delivering a message to one owner at a time, until its lease lapses', async () => {
      const { outbox, pass } = await make();
      expect(await outbox.claim('m1', 'serve-1', 200)).toBe(true);
      expect(await outbox.claim('m1', 'serve-2', 200)).toBe(false);
      expect(await outbox.claim('m1', 'serve-1', 200)).toBe(true);
      await pass(300);
      expect(await outbox.claim('m1', 'serve-2', 200)).toBe(true);
    });
  });
}
