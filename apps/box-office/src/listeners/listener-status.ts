import { ApiProperty } from '@nestjs/swagger';
import { DELIVERY_MODES, type DeliveryMode } from '@podium/core';

export class QueueDepth {
  @ApiProperty({ example: 0 }) waiting!: number;
  @ApiProperty({ example: 0 }) active!: number;
  @ApiProperty({ example: 0 }) delayed!: number;
  @ApiProperty({ example: 0 }) failed!: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'Age of the oldest waiting job, in milliseconds; null when none waits',
    example: null,
  })
  oldestWaitingMs!: number | null;
}

export class ListenerCounts {
  @ApiProperty({
    description:
      "Orders podium's box office announced on a channel it subscribes to, since it first ran",
  })
  announced!: number;
  @ApiProperty({ description: 'Orders whose effects it applied' })
  applied!: number;
  @ApiProperty({
    description:
      'Orders it heard that were not for it (its handler returned null)',
  })
  skipped!: number;
  @ApiProperty({
    description:
      'Announcements of orders it had already applied (skipped by the marker)',
  })
  duplicates!: number;
  @ApiProperty({ description: 'Messages that named no readable order' })
  rejected!: number;
  @ApiProperty({
    description:
      'Orders that failed for good and wait in its failed set (a retry takes them back)',
  })
  failed!: number;
  @ApiProperty({
    description:
      'Orders it heard but could not keep (an enqueue that failed for good)',
  })
  lost!: number;
}

export class ListenerStatus {
  @ApiProperty({ example: 'sales-summary' }) name!: string;
  @ApiProperty({ enum: DELIVERY_MODES }) mode!: DeliveryMode;
  @ApiProperty({
    description:
      'Its group: one unit of work (and, with a queue, one job) per order for all members',
    example: 'durable',
  })
  group!: string;
  @ApiProperty({
    description: 'The PSUBSCRIBE pattern',
    example: 'purchase_orders',
  })
  pattern!: string;
  @ApiProperty({
    description:
      'Its group holds a durable subscription: the box office queues every order for it',
  })
  durableSubscription!: boolean;
  @ApiProperty({
    type: ListenerCounts,
    description: 'Totals of podium:stats:<listener>, across processes',
  })
  counts!: ListenerCounts;
  @ApiProperty({
    description:
      'Announced and not accounted for yet: waiting in a queue, in flight, or lost',
  })
  lag!: number;
  @ApiProperty({
    description:
      'Orders it will never apply unless retried: counted lost, plus the lag that no queue holds (ephemeral: announced while it was ' +
      'down, cut or too slow; an order in flight counts here for a moment)',
  })
  lost!: number;
  @ApiProperty({
    type: QueueDepth,
    nullable: true,
    description:
      "Its group's queue (shared by the group's members); null when it has none (ephemeral)",
  })
  queue!: QueueDepth | null;
}

export class FailedOrder {
  @ApiProperty({ example: 'K3V9Q2M7X1AB' }) orderId!: string;
  @ApiProperty({ example: 'cannot handle order K3V9Q2M7X1AB' }) error!: string;
  @ApiProperty({ example: 5 }) attempts!: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  failedAt!: string | null;
}

export class RetryResult {
  @ApiProperty({ description: 'Failed jobs moved back to waiting', example: 1 })
  retried!: number;
}
