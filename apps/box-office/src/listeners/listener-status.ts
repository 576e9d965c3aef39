import { ApiProperty } from '@nestjs/swagger';
import { DELIVERY_MODES, type DeliveryMode } from '@podium/queues';

export class QueueDepth {
  @ApiProperty({ example: 0 }) waiting!: number;
  @ApiProperty({ example: 0 }) active!: number;
  @ApiProperty({ example: 0 }) delayed!: number;
  @ApiProperty({ example: 0 }) failed!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Age of the oldest waiting job, in milliseconds; null when none waits', example: null })
  oldestWaitingMs!: number | null;
}

export class ListenerCounts {
  @ApiProperty() applied!: number;
  @ApiProperty() duplicates!: number;
  @ApiProperty() rejected!: number;
  @ApiProperty() failed!: number;
}

export class ListenerStatus {
  @ApiProperty({ example: 'sales-summary' }) name!: string;
  @ApiProperty({ enum: DELIVERY_MODES }) mode!: DeliveryMode;
  @ApiProperty({ description: 'Its group: one unit of work (and, with a queue, one job) per order for all members', example: 'durable' })
  group!: string;
  @ApiProperty({ description: 'The PSUBSCRIBE pattern', example: 'purchase_orders' }) pattern!: string;
  @ApiProperty({ description: "Its group holds a durable subscription: the box office queues every order for it" })
  durableSubscription!: boolean;
  @ApiProperty({ type: ListenerCounts, description: 'Totals of podium:stats:<listener>, across processes' })
  counts!: ListenerCounts;
  @ApiProperty({ type: QueueDepth, nullable: true, description: "Its group's queue (shared by the group's members); null when it has none (ephemeral)" })
  queue!: QueueDepth | null;
}

export class FailedOrder {
  @ApiProperty({ example: 'K3V9Q2M7X1AB' }) orderId!: string;
  @ApiProperty({ example: 'cannot handle order K3V9Q2M7X1AB' }) error!: string;
  @ApiProperty({ example: 5 }) attempts!: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) failedAt!: string | null;
}

export class RetryResult {
  @ApiProperty({ description: 'Failed jobs moved back to waiting', example: 1 }) retried!: number;
}
