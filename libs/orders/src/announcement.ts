import { globMatches } from '@podium/core';
import { eventChannel, ORDERS_CHANNEL } from './keys.js';

/*
 * How an order is announced, in one place: `PUBLISH purchase_orders <id>` and
 * `PUBLISH purchase_orders:<event> <id>`, the payload being the bare id (the seed's wire
 * format). ORDER's channels are these; whatever else announces an order or asks who hears
 * one goes through here too.
 */

/** The channels an order of this event is announced on, in the order they are published. */
export function orderChannels(event: string): [string, string] {
  return [ORDERS_CHANNEL, eventChannel(event)];
}

/** Whether a subscription pattern (PSUBSCRIBE glob) hears an order of this event: it matches one of its channels. */
export function hearsOrder(pattern: string, event: string): boolean {
  return orderChannels(event).some((channel) => globMatches(pattern, channel));
}

/** Something that queues commands: a pipeline, a MULTI. */
interface Publishing<T> {
  publish(channel: string, message: string): T;
}

/** Adds the announcement of an order to a pipeline or MULTI, the seed's way. */
export function addAnnouncement<T extends Publishing<T>>(
  commands: T,
  orderId: string,
  event: string,
): T {
  let chained = commands;
  for (const channel of orderChannels(event))
    chained = chained.publish(channel, orderId);
  return chained;
}
