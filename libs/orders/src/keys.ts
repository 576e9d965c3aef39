/**
 * The Redis key and channel names that podium shares with other programs (the seed's
 * Python listeners among them). They are a contract on one Redis (also behind Sentinel or
 * an endpoint): change none of them. On a cluster the channels keep these names, while
 * the keys carry a slot tag (Keyspace.cluster, docs/cluster.md), so the seed's programs
 * are for one Redis.
 */
export const ORDERS_CHANNEL = 'purchase_orders';
export const SALES_SUMMARY = 'sales_summary';
export const HISTOGRAM_ALL_EVENTS = 'sales_histogram:time_of_day';
export const OPENING_CEREMONY = 'Opening Ceremony';

export const orderKey = (orderId: string): string =>
  `purchase_order_details:${orderId}`;
export const eventKey = (name: string): string => `events:${name}`;
export const eventChannel = (event: string): string =>
  `${ORDERS_CHANNEL}:${event}`;
export const salesSetKey = (event: string): string => `sales:${event}`;
export const invoicesKey = (who: string): string => `invoices:${who}`;
export const eventHistogramKey = (event: string): string =>
  `${HISTOGRAM_ALL_EVENTS}:${event}`;

export const salesSummaryField = {
  totalSales: (event: string): string => `${event}:total_sales`,
  ticketsSold: (event: string): string => `${event}:total_tickets_sold`,
  openingCeremonyOrders: `${OPENING_CEREMONY}:total_orders`,
} as const;

/** Keys of podium's own that the seed does not define. */
export const LOTTERY_WINNERS = 'lottery:winners';
export const ALERTS = 'alerts';
