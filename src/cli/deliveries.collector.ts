import type {
  Delivery,
  DeliveryListQuery,
  DeliveryPage,
  DeliveryStatusName,
} from './admin-api.types';

/** `failed` is what replay calls failed: failing and dead. */
export type DeliveryStatusFilter = DeliveryStatusName | 'failed';

export interface DeliveryListOptions {
  status?: DeliveryStatusFilter;
  subscriptionId?: string;
  eventType?: string;
  /** Epoch ms; only deliveries created in [since, until]. */
  sinceMs?: number;
  untilMs?: number;
  limit: number;
}

export interface CollectedDeliveries {
  data: Delivery[];
  /** The scan stopped at MAX_SCANNED before the window was exhausted. */
  incomplete: boolean;
}

/** The API's largest page. */
export const PAGE_SIZE = 100;
/** Records read per status before giving up on filling the window: a listing never walks all retention. */
export const MAX_SCANNED = 10_000;

type ListPage = (query: DeliveryListQuery) => Promise<DeliveryPage>;

const newestFirst = (a: Delivery, b: Delivery): number =>
  Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * GET /v1/deliveries filters by status, subscription and type, newest first. This adds what it
 * does not take (yet): `failed` as two statuses merged, and a time window, read page by page
 * until the window's start is passed, the limit is reached or MAX_SCANNED records were read.
 */
export async function collectDeliveries(
  list: ListPage,
  options: DeliveryListOptions,
): Promise<CollectedDeliveries> {
  const statuses: (DeliveryStatusName | undefined)[] =
    options.status === 'failed' ? ['dead', 'failing'] : [options.status];
  const streams = await Promise.all(statuses.map((status) => collectOne(list, options, status)));
  return {
    data: streams
      .flatMap((s) => s.data)
      .sort(newestFirst)
      .slice(0, options.limit),
    incomplete: streams.some((s) => s.incomplete),
  };
}

async function collectOne(
  list: ListPage,
  options: DeliveryListOptions,
  status: DeliveryStatusName | undefined,
): Promise<CollectedDeliveries> {
  const windowed = options.sinceMs !== undefined || options.untilMs !== undefined;
  const data: Delivery[] = [];
  let scanned = 0;
  let cursor: string | undefined;
  for (;;) {
    const pageSize = windowed ? PAGE_SIZE : Math.min(PAGE_SIZE, options.limit - data.length);
    const page = await list({
      subscriptionId: options.subscriptionId,
      status,
      eventType: options.eventType,
      limit: pageSize,
      cursor,
    });
    for (const delivery of page.data) {
      scanned++;
      const createdMs = Date.parse(delivery.createdAt);
      if (options.sinceMs !== undefined && createdMs < options.sinceMs) {
        return { data, incomplete: false };
      }
      if (options.untilMs !== undefined && createdMs > options.untilMs) {
        continue;
      }
      data.push(delivery);
      if (data.length >= options.limit) {
        return { data, incomplete: false };
      }
    }
    cursor = page.nextCursor;
    if (!cursor || page.data.length === 0) {
      return { data, incomplete: false };
    }
    if (scanned >= MAX_SCANNED) {
      return { data, incomplete: true };
    }
  }
}
