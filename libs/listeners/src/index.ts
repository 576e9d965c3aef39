import { CustomerInvoicesModule } from './customer-invoices/customer-invoices.module.js';
import { EventAlertsModule } from './event-alerts/event-alerts.module.js';
import { OpeningCeremonyLotteryModule } from './opening-ceremony-lottery/opening-ceremony-lottery.module.js';
import { SalesHistogramModule } from './sales-histogram/sales-histogram.module.js';
import { SalesSummaryModule } from './sales-summary/sales-summary.module.js';

export {
  CustomerInvoicesModule,
  EventAlertsModule,
  OpeningCeremonyLotteryModule,
  SalesHistogramModule,
  SalesSummaryModule,
};
export type { Alert } from './event-alerts/event-alerts.listener.js';
export { LOTTERY_EVERY_NTH_ORDER } from './opening-ceremony-lottery/opening-ceremony-lottery.listener.js';
// The seed's five, by name: defined with the Olympics domain (the bench names them too).
export { SEED_LISTENERS, seedListenersFor } from '@podium/orders';

/** The listener modules the listeners app hosts. A new listener is one folder plus one line here. */
export const LISTENER_MODULES = [
  SalesHistogramModule,
  SalesSummaryModule,
  CustomerInvoicesModule,
  OpeningCeremonyLotteryModule,
  EventAlertsModule,
];
