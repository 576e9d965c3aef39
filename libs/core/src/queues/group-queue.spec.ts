import { jobName, jobMessageIds, retryJobId } from './group-queue.js';
import { outboxEntry, parseOutboxEntry } from './message-enqueuer.js';

describe('jobs', () => {
  it('carry orders, and say how many in their name (bull-board shows it)', () => {
    expect(jobMessageIds({ orders: ['A1', 'B2'] })).toEqual(['A1', 'B2']);
    expect(jobName(1)).toBe('1 message');
    expect(jobName(37)).toBe('37 messages');
  });

  it('queued before jobs carried batches still give their one order', () => {
    expect(jobMessageIds({ orderId: 'OLD1' } as never)).toEqual(['OLD1']);
  });

  it("that retry one order of a batch get an id BullMQ accepts: never all digits, no ':'", () => {
    expect(retryJobId('123', '456')).toBe('123-456');
    expect(retryJobId('123', 'a:b')).toBe('123-a%3Ab');
  });
});

describe('outbox entries', () => {
  it('name the group and the order', () => {
    expect(parseOutboxEntry(outboxEntry('slow-invoices', 'A:1 2'))).toEqual({
      group: 'slow-invoices',
      id: 'A:1 2',
    });
  });
});
