import type { Delivery, DeliveryListQuery, DeliveryPage } from './admin-api.types';
import { collectDeliveries, MAX_SCANNED } from './deliveries.collector';

const T0 = Date.parse('2026-11-30T12:00:00.000Z');

function delivery(n: number, status: Delivery['status']): Delivery {
  const createdAt = new Date(T0 - n * 60_000).toISOString();
  return {
    id: `d_${n}`,
    eventId: `e_${n}`,
    eventType: 'call.live',
    subscriptionId: 'sub_1',
    status,
    createdAt,
    updatedAt: createdAt,
    attemptCount: 1,
  };
}

/** The API as the repository behaves: newest first, filtered by status, paged by cursor. */
function fakeApi(all: Delivery[]): {
  list: (q: DeliveryListQuery) => Promise<DeliveryPage>;
  calls: DeliveryListQuery[];
} {
  const calls: DeliveryListQuery[] = [];
  const list = (query: DeliveryListQuery): Promise<DeliveryPage> => {
    calls.push(query);
    const matching = all.filter((d) => !query.status || d.status === query.status);
    const start = query.cursor ? Number(query.cursor) : 0;
    const data = matching.slice(start, start + query.limit);
    const end = start + data.length;
    return Promise.resolve(
      data.length === query.limit && end < matching.length
        ? { data, nextCursor: String(end) }
        : { data },
    );
  };
  return { list, calls };
}

describe('collectDeliveries', () => {
  // one a minute, newest first: d_0 (12:00), d_1 (11:59), ...
  const all = Array.from({ length: 300 }, (_, n) =>
    delivery(n, n % 3 === 0 ? 'dead' : n % 3 === 1 ? 'failing' : 'succeeded'),
  );

  it('asks for no more than the limit when there is no window', async () => {
    const api = fakeApi(all);
    const result = await collectDeliveries(api.list, { limit: 5 });
    expect(result.data.map((d) => d.id)).toEqual(['d_0', 'd_1', 'd_2', 'd_3', 'd_4']);
    expect(api.calls).toEqual([expect.objectContaining({ limit: 5, status: undefined })]);
  });

  it('follows cursors past the API page size', async () => {
    const api = fakeApi(all);
    const result = await collectDeliveries(api.list, { limit: 250 });
    expect(result.data).toHaveLength(250);
    expect(api.calls.map((c) => c.limit)).toEqual([100, 100, 50]);
  });

  it('merges failing and dead, newest first, for --status failed', async () => {
    const api = fakeApi(all);
    const result = await collectDeliveries(api.list, { status: 'failed', limit: 4 });
    expect(result.data.map((d) => d.id)).toEqual(['d_0', 'd_1', 'd_3', 'd_4']);
    expect(api.calls.map((c) => c.status).sort()).toEqual(['dead', 'failing']);
  });

  it('keeps only the window and stops reading once past its start', async () => {
    const api = fakeApi(all);
    const result = await collectDeliveries(api.list, {
      sinceMs: T0 - 150 * 60_000,
      untilMs: T0 - 140 * 60_000,
      limit: 50,
    });
    expect(result.data.map((d) => d.id)).toEqual(
      Array.from({ length: 11 }, (_, i) => `d_${140 + i}`),
    );
    // 151 records read in pages of 100: the third page is never asked for.
    expect(api.calls).toHaveLength(2);
    expect(result.incomplete).toBe(false);
  });

  it('gives up after MAX_SCANNED records and says so', async () => {
    const many = Array.from({ length: MAX_SCANNED + 500 }, (_, n) => delivery(n, 'succeeded'));
    const api = fakeApi(many);
    const result = await collectDeliveries(api.list, {
      sinceMs: 0,
      untilMs: T0 - (MAX_SCANNED + 400) * 60_000,
      limit: 10,
    });
    expect(result.data).toEqual([]);
    expect(result.incomplete).toBe(true);
    expect(api.calls).toHaveLength(MAX_SCANNED / 100);
  });
});
