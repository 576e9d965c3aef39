import { Injectable, Logger } from '@nestjs/common';
import { type Effects } from '@podium/core';
import {
  eventChannel,
  LOTTERY_WINNERS,
  OPENING_CEREMONY,
  SALES_SUMMARY,
  salesSummaryField,
  type Order,
  OnPurchase,
} from '@podium/orders';

export const LOTTERY_EVERY_NTH_ORDER = 5;

// Counting and drawing happen in one script so that a winner is recorded exactly when
// the count reaches a multiple of N, whatever other processes count at the same time.
const DRAW = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
if n % tonumber(ARGV[3]) == 0 then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  return n
end
return 0
`;

/** Every 5th Opening Ceremony order wins: recorded in list lottery:winners and logged. */
@Injectable()
export class OpeningCeremonyLotteryListener {
  private readonly logger = new Logger('OpeningCeremonyLottery');

  @OnPurchase({
    listener: 'opening-ceremony-lottery',
    channel: eventChannel(OPENING_CEREMONY),
    // Every 5th order counts all of them: on a cluster its keys stay in one slot.
    oneSlot: true,
  })
  onPurchase(order: Order): Effects | null {
    if (order.event !== OPENING_CEREMONY) return null;
    return {
      script: DRAW,
      keys: [SALES_SUMMARY, LOTTERY_WINNERS],
      args: [
        salesSummaryField.openingCeremonyOrders,
        order.orderId,
        LOTTERY_EVERY_NTH_ORDER,
      ],
      afterApply: (drawn: unknown) => {
        if (Number(drawn) > 0)
          this.logger.log(
            `===> Winner!!!!! Opening Ceremony Lottery - Order Id: ${order.orderId}`,
          );
      },
    };
  }
}
