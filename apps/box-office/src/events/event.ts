/** An event as stored in hash events:<name>. */
export interface TicketedEvent {
  name: string;
  price: number;
  capacity: number | null;
  sold: number;
}

export function eventFromHash(
  name: string,
  hash: Record<string, string>,
): TicketedEvent {
  return {
    name,
    price: Number(hash.price),
    capacity: hash.capacity ? Number(hash.capacity) : null,
    sold: Number(hash.sold ?? 0),
  };
}
