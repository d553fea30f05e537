import { ConflictException, NotFoundException } from '@nestjs/common';
import type { Logger } from 'pino';
import type { EventLog, LoggedEvent } from '../events/event-log';
import type { NormalizedEvent } from '../events/normalized-event';
import { webhookBody } from '../events/webhook-body';
import { DeliveryBusyError, type DeliveryQueue } from '../queue/delivery-queue';
import { type DeliveryJobData, deliveryIdOf } from '../queue/queue.constants';
import type { Subscription } from '../subscriptions/subscription.model';
import type { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { DeliveryAdminService, MAX_REPLAY } from './delivery-admin.service';
import type {
  DeliveryIdentity,
  DeliveryQuery,
  DeliveryRecordRepository,
} from './delivery-record.repository';
import { type DeliveryRecord, DeliveryStatus } from './delivery.model';
import { subscriptionFixture } from './delivery.spec-fixture';

const NOW = Date.parse('2026-11-28T12:00:00.000Z');
const SUB_ID = 'sub_admin';
/** A replay cap small enough that hitting it costs little. */
const SMALL_CAP = 1_200;

function subscription(over: Partial<Subscription> = {}): Subscription {
  return subscriptionFixture({ id: SUB_ID, eventTypes: ['call.*'], ...over });
}

function record(over: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    id: 'dlv_1',
    eventId: 'evt_1',
    eventType: 'call.live',
    subscriptionId: SUB_ID,
    status: DeliveryStatus.Dead,
    createdAt: '2026-11-28T09:00:00.000Z',
    updatedAt: '2026-11-28T09:05:00.000Z',
    attemptCount: 3,
    lastStatusCode: 503,
    nextAttemptAt: '2026-11-28T09:10:00.000Z',
    ...over,
  };
}

/** A stored event as the log holds it, received at `receivedAtMs`. */
function logged(id: string, receivedAtMs: number, over: Partial<LoggedEvent> = {}): LoggedEvent {
  const at = new Date(receivedAtMs).toISOString();
  const event: NormalizedEvent = {
    id,
    type: 'call.live',
    occurredAt: at,
    receivedAt: at,
    data: {},
    raw: {},
  } as NormalizedEvent;
  return { entryId: `${receivedAtMs}-0`, body: webhookBody(event), ...over };
}

function typed(entry: LoggedEvent, type: string): LoggedEvent {
  const event = JSON.parse(entry.body) as NormalizedEvent;
  return { ...entry, body: webhookBody({ ...event, type } as NormalizedEvent) };
}

/** The service with doubles for Redis-backed parts; each test says what they answer. */
function setUp(maxReplay?: number) {
  const records = {
    get: jest.fn((): Promise<DeliveryRecord | undefined> => Promise.resolve(record())),
    list: jest.fn((_q: DeliveryQuery): Promise<{ data: DeliveryRecord[]; nextCursor?: string }> =>
      Promise.resolve({ data: [] }),
    ),
    setStatus: jest.fn((_id: string, _status: DeliveryStatus, _atMs: number, _reason?: string) =>
      Promise.resolve(true),
    ),
    createPending: jest.fn((_identity: DeliveryIdentity) => Promise.resolve('created')),
  };
  const subscriptions = {
    get: jest.fn((): Promise<Subscription | undefined> => Promise.resolve(subscription())),
  };
  const queue = {
    requeue: jest.fn(async (_data: DeliveryJobData, before: () => Promise<void>) => {
      await before();
    }),
    addMany: jest.fn((_jobs: DeliveryJobData[]) => Promise.resolve()),
  };
  const log = {
    entryIdOf: jest.fn((): Promise<string | undefined> => Promise.resolve('1700-0')),
    append: jest.fn(() => Promise.resolve(['1800-0'])),
    readAfter: jest.fn(
      (_after: string | undefined, _count: number, _until?: number): Promise<LoggedEvent[]> =>
        Promise.resolve([]),
    ),
  };
  const info = jest.fn();
  const child = jest.fn(() => ({ info }));
  const logger = { child } as unknown as Logger;
  const service = new DeliveryAdminService(
    records as unknown as DeliveryRecordRepository,
    subscriptions as unknown as SubscriptionsRepository,
    queue as unknown as DeliveryQueue,
    log as unknown as EventLog,
    logger,
    maxReplay,
  );
  return { service, records, subscriptions, queue, log, info, child };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

beforeEach(() => {
  jest.useFakeTimers({ now: NOW });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('DeliveryAdminService.get and list', () => {
  it('returns the stored record', async () => {
    const { service, records } = setUp();
    await expect(service.get('dlv_1')).resolves.toEqual(record());
    expect(records.get).toHaveBeenCalledWith('dlv_1');
  });

  it('is a 404 naming the delivery and the retention window when there is no record', async () => {
    const { service, records } = setUp();
    records.get.mockResolvedValue(undefined);
    const error = await rejection(service.get('dlv_gone'));
    expect(error).toBeInstanceOf(NotFoundException);
    expect(error.message).toBe(
      'delivery dlv_gone not found (unknown, or older than the retention window)',
    );
  });

  it('lists with the query as given and returns the page as is', async () => {
    const { service, records } = setUp();
    const page = { data: [record()], nextCursor: 'next' };
    records.list.mockResolvedValue(page);
    const query: DeliveryQuery = { subscriptionId: SUB_ID, status: DeliveryStatus.Dead, limit: 5 };
    await expect(service.list(query)).resolves.toBe(page);
    expect(records.list).toHaveBeenCalledWith(query);
  });
});

describe('DeliveryAdminService.retry', () => {
  it('queues the delivery again as a manual job, marked pending before the job can run', async () => {
    const { service, queue, records, log } = setUp();
    const result = await service.retry('dlv_1');
    expect(log.entryIdOf).toHaveBeenCalledWith('evt_1');
    expect(queue.requeue).toHaveBeenCalledTimes(1);
    expect(queue.requeue.mock.calls[0][0]).toEqual({
      deliveryId: 'dlv_1',
      eventId: 'evt_1',
      entryId: '1700-0',
      eventType: 'call.live',
      subscriptionId: SUB_ID,
      receivedAtMs: NOW,
      manual: true,
    });
    expect(records.setStatus).toHaveBeenCalledWith('dlv_1', DeliveryStatus.Pending, NOW);
    expect(result).toEqual({
      ...record(),
      status: DeliveryStatus.Pending,
      nextAttemptAt: undefined,
    });
    expect(result.nextAttemptAt).toBeUndefined();
  });

  it('does not mark the record pending itself when the queue does not run the callback', async () => {
    const { service, queue, records } = setUp();
    queue.requeue.mockResolvedValue(undefined);
    await service.retry('dlv_1');
    expect(records.setStatus).not.toHaveBeenCalled();
  });

  it('logs who was retried for the operator', async () => {
    const { service, info } = setUp();
    await service.retry('dlv_1');
    expect(info).toHaveBeenCalledWith(
      { deliveryId: 'dlv_1', subscriptionId: SUB_ID, eventId: 'evt_1' },
      'delivery retried by request',
    );
  });

  it('is a 404 and queues nothing for an unknown delivery', async () => {
    const { service, records, queue } = setUp();
    records.get.mockResolvedValue(undefined);
    await expect(service.retry('dlv_x')).rejects.toBeInstanceOf(NotFoundException);
    expect(queue.requeue).not.toHaveBeenCalled();
  });

  it('is a 409 with the queue message while the delivery is being attempted', async () => {
    const { service, queue } = setUp();
    queue.requeue.mockRejectedValue(new DeliveryBusyError('dlv_1'));
    const error = await rejection(service.retry('dlv_1'));
    expect(error).toBeInstanceOf(ConflictException);
    expect(error.message).toBe('delivery dlv_1 is being attempted right now');
  });

  it('passes any other queue failure through unchanged', async () => {
    const { service, queue } = setUp();
    const failure = new Error('redis down');
    queue.requeue.mockRejectedValue(failure);
    await expect(service.retry('dlv_1')).rejects.toBe(failure);
  });
});

describe('DeliveryAdminService.replay failed', () => {
  const SINCE = NOW - 3_600_000;
  const UNTIL = NOW - 60_000;

  it('requeues every dead then failing delivery of the window, page by page', async () => {
    const { service, records, queue } = setUp();
    records.list.mockImplementation((q: DeliveryQuery) => {
      if (q.status === DeliveryStatus.Dead && q.cursor === undefined) {
        return Promise.resolve({
          data: [record({ id: 'd1' }), record({ id: 'd2' })],
          nextCursor: 'c1',
        });
      }
      if (q.status === DeliveryStatus.Dead && q.cursor === 'c1') {
        return Promise.resolve({ data: [record({ id: 'd3' })] });
      }
      return Promise.resolve({
        data: [record({ id: 'f1', status: DeliveryStatus.Failing })],
      });
    });
    await expect(service.replay(SUB_ID, SINCE, UNTIL, 'failed')).resolves.toEqual({ replayed: 4 });
    const window = { subscriptionId: SUB_ID, sinceMs: SINCE, untilMs: UNTIL, limit: 500 };
    expect(records.list.mock.calls.map((c) => c[0])).toEqual([
      { ...window, status: DeliveryStatus.Dead, cursor: undefined },
      { ...window, status: DeliveryStatus.Dead, cursor: 'c1' },
      { ...window, status: DeliveryStatus.Failing, cursor: undefined },
    ]);
    expect(queue.requeue.mock.calls.map((c) => c[0].deliveryId)).toEqual(['d1', 'd2', 'd3', 'f1']);
    expect(queue.requeue.mock.calls.every((c) => c[0].manual === true)).toBe(true);
    expect(records.setStatus.mock.calls.map((c) => c[0])).toEqual(['d1', 'd2', 'd3', 'f1']);
  });

  it('requeues a delivery once when it fails again between the dead and the failing pass', async () => {
    // d1 is requeued by the dead pass, fails at once and is `failing` when the second pass lists.
    const { service, records, queue } = setUp();
    records.list.mockImplementation((q: DeliveryQuery) =>
      Promise.resolve({
        data:
          q.status === DeliveryStatus.Dead
            ? [record({ id: 'd1' }), record({ id: 'd2' })]
            : [
                record({ id: 'd1', status: DeliveryStatus.Failing }),
                record({ id: 'f1', status: DeliveryStatus.Failing }),
              ],
      }),
    );
    await expect(service.replay(SUB_ID, SINCE, UNTIL, 'failed')).resolves.toEqual({ replayed: 3 });
    expect(queue.requeue.mock.calls.map((c) => c[0].deliveryId)).toEqual(['d1', 'd2', 'f1']);
    expect(records.setStatus.mock.calls.map((c) => c[0])).toEqual(['d1', 'd2', 'f1']);
  });

  it('does not count a delivery listed twice by one pass (a page boundary moved)', async () => {
    const { service, records, queue } = setUp();
    records.list.mockImplementation((q: DeliveryQuery) => {
      if (q.status !== DeliveryStatus.Dead) {
        return Promise.resolve({ data: [] });
      }
      return Promise.resolve(
        q.cursor === undefined
          ? { data: [record({ id: 'd1' }), record({ id: 'd2' })], nextCursor: 'c1' }
          : { data: [record({ id: 'd2' }), record({ id: 'd3' })] },
      );
    });
    await expect(service.replay(SUB_ID, SINCE, UNTIL, 'failed')).resolves.toEqual({ replayed: 3 });
    expect(queue.requeue.mock.calls.map((c) => c[0].deliveryId)).toEqual(['d1', 'd2', 'd3']);
  });

  it('skips a delivery being attempted right now and replays the others', async () => {
    const { service, records, queue } = setUp();
    records.list.mockImplementation((q: DeliveryQuery) =>
      Promise.resolve({
        data:
          q.status === DeliveryStatus.Dead ? [record({ id: 'busy' }), record({ id: 'd2' })] : [],
      }),
    );
    queue.requeue.mockImplementation(async (data, before) => {
      if (data.deliveryId === 'busy') {
        throw new DeliveryBusyError('busy');
      }
      await before();
    });
    await expect(service.replay(SUB_ID, SINCE, UNTIL, 'failed')).resolves.toEqual({ replayed: 1 });
    expect(records.setStatus.mock.calls.map((c) => c[0])).toEqual(['d2']);
  });

  it('stops at the first failure that is not a busy delivery', async () => {
    const { service, records, queue } = setUp();
    records.list.mockResolvedValue({ data: [record({ id: 'd1' }), record({ id: 'd2' })] });
    const failure = new Error('redis down');
    queue.requeue.mockRejectedValue(failure);
    await expect(service.replay(SUB_ID, SINCE, UNTIL, 'failed')).rejects.toBe(failure);
    expect(queue.requeue).toHaveBeenCalledTimes(1);
  });

  it('caps a replay at 100,000 deliveries unless told otherwise', () => {
    expect(MAX_REPLAY).toBe(100_000);
  });

  it.each([
    [SMALL_CAP, SMALL_CAP],
    [undefined, MAX_REPLAY],
  ])('with cap %s, stops after %s deliveries however many more match', async (cap, expected) => {
    const { service, records, queue } = setUp(cap);
    queue.requeue.mockResolvedValue(undefined);
    // Every page has 500 more deliveries (each listed once, as the repository pages them).
    let page = 0;
    records.list.mockImplementation(() => {
      page++;
      const data = Array.from({ length: 500 }, (_, i) => record({ id: `d${page}-${i}` }));
      return Promise.resolve({ data, nextCursor: 'more' });
    });
    await expect(service.replay(SUB_ID, SINCE, UNTIL, 'failed')).resolves.toEqual({
      replayed: expected,
    });
    expect(queue.requeue).toHaveBeenCalledTimes(expected);
  });

  it('logs the replay with its scope, count and window', async () => {
    const { service, records, info, child } = setUp();
    expect(child).toHaveBeenCalledWith({ component: 'delivery-admin' });
    records.list.mockImplementation((q: DeliveryQuery) =>
      Promise.resolve({ data: q.status === DeliveryStatus.Dead ? [record()] : [] }),
    );
    await service.replay(SUB_ID, SINCE, UNTIL, 'failed');
    expect(info).toHaveBeenCalledWith(
      {
        subscriptionId: SUB_ID,
        scope: 'failed',
        replayed: 1,
        since: new Date(SINCE).toISOString(),
        until: new Date(UNTIL).toISOString(),
      },
      'replay requested',
    );
  });

  it('is a 404 naming the subscription, and lists nothing, for an unknown subscription', async () => {
    const { service, subscriptions, records, log } = setUp();
    subscriptions.get.mockResolvedValue(undefined);
    const error = await rejection(service.replay('sub_gone', SINCE, UNTIL, 'failed'));
    expect(error).toBeInstanceOf(NotFoundException);
    expect(error.message).toBe('subscription sub_gone not found');
    expect(subscriptions.get).toHaveBeenCalledWith('sub_gone');
    expect(records.list).not.toHaveBeenCalled();
    expect(log.readAfter).not.toHaveBeenCalled();
  });
});

describe('DeliveryAdminService.replay all', () => {
  const SINCE = NOW - 3_600_000;
  const UNTIL = NOW - 60_000;
  const suffixed = (eventId: string): RegExp =>
    new RegExp(`^${deliveryIdOf(eventId, SUB_ID)}~~r${NOW.toString(36)}[0-9a-f]{4}$`);

  it('makes a new delivery for every matching event received inside the window', async () => {
    const { service, log, records, queue } = setUp();
    const page = [
      logged('before', SINCE - 1),
      logged('first', SINCE),
      typed(logged('other-type', SINCE + 10), 'sms.received'),
      logged('targeted', SINCE + 20, { targetSubscriptionId: 'sub_x' }),
      logged('unreadable', SINCE + 30, { body: '', unreadable: 'corrupt' }),
      logged('last', UNTIL),
      logged('after', UNTIL + 1),
    ];
    log.readAfter.mockResolvedValueOnce(page);
    await expect(service.replay(SUB_ID, SINCE, UNTIL, 'all')).resolves.toEqual({ replayed: 2 });

    // A minute early, since the entry id is the append time and the window is on receivedAt.
    expect(log.readAfter.mock.calls).toEqual([
      [`${SINCE - 60_000}-0`, 500, UNTIL + 60_000],
      [`${UNTIL + 1}-0`, 500, UNTIL + 60_000],
    ]);
    const created = records.createPending.mock.calls.map((c) => c[0]);
    expect(created.map((c) => c.deliveryId)).toEqual([
      expect.stringMatching(suffixed('first')),
      expect.stringMatching(suffixed('last')),
    ]);
    // The record holds its event in the log from the start, not from its first failed attempt.
    const identityOf = (
      eventId: string,
      deliveryId: string,
      entryId: string,
    ): DeliveryIdentity => ({
      deliveryId,
      eventId,
      eventType: 'call.live',
      subscriptionId: SUB_ID,
      createdAtMs: NOW,
      entryId,
    });
    expect(created).toEqual([
      identityOf('first', created[0].deliveryId, `${SINCE}-0`),
      identityOf('last', created[1].deliveryId, `${UNTIL}-0`),
    ]);
    expect(queue.addMany).toHaveBeenCalledTimes(1);
    const jobs = queue.addMany.mock.calls[0][0];
    expect(jobs).toEqual([
      {
        deliveryId: created[0].deliveryId,
        eventId: 'first',
        entryId: `${SINCE}-0`,
        eventType: 'call.live',
        subscriptionId: SUB_ID,
        receivedAtMs: NOW,
        manual: true,
      },
      {
        deliveryId: created[1].deliveryId,
        eventId: 'last',
        entryId: `${UNTIL}-0`,
        eventType: 'call.live',
        subscriptionId: SUB_ID,
        receivedAtMs: NOW,
        manual: true,
      },
    ]);
    // One replay, one suffix: the new deliveries are told apart from the originals, not each other.
    const suffixes = jobs.map((j) => j.deliveryId.split('~~')[2]);
    expect(new Set(suffixes).size).toBe(1);
    expect(queue.requeue).not.toHaveBeenCalled();
  });

  it('reads on from the last entry of each page until the log has no more', async () => {
    const { service, log, queue } = setUp();
    log.readAfter
      .mockResolvedValueOnce([logged('e1', SINCE + 1), logged('e2', SINCE + 2)])
      .mockResolvedValueOnce([logged('e3', SINCE + 3)])
      .mockResolvedValueOnce([]);
    await expect(service.replay(SUB_ID, SINCE, UNTIL, 'all')).resolves.toEqual({ replayed: 3 });
    expect(log.readAfter.mock.calls.map((c) => c[0])).toEqual([
      `${SINCE - 60_000}-0`,
      `${SINCE + 2}-0`,
      `${SINCE + 3}-0`,
    ]);
    expect(queue.addMany.mock.calls.map((c) => c[0].map((j) => j.eventId))).toEqual([
      ['e1', 'e2'],
      ['e3'],
    ]);
  });

  it('starts at the beginning of the log for a window within a minute of the epoch', async () => {
    const { service, log } = setUp();
    await service.replay(SUB_ID, 30_000, 90_000, 'all');
    expect(log.readAfter).toHaveBeenCalledWith('0-0', 500, 150_000);
  });

  it(`stops after the cap (${SMALL_CAP} here), also in the middle of a page`, async () => {
    const { service, log, queue, records } = setUp(SMALL_CAP);
    let next = 0;
    const pageOf = (n: number): LoggedEvent[] =>
      Array.from({ length: n }, () => {
        next++;
        return { ...logged(`e${next}`, SINCE + 1), entryId: `${SINCE}-${next}` };
      });
    // 300 first, then full pages: the cap falls 400 events into the third page.
    log.readAfter.mockImplementation(() => Promise.resolve(pageOf(next === 0 ? 300 : 500)));
    await expect(service.replay(SUB_ID, SINCE, UNTIL, 'all')).resolves.toEqual({
      replayed: SMALL_CAP,
    });
    const queued = queue.addMany.mock.calls.reduce((sum, c) => sum + c[0].length, 0);
    expect(queued).toBe(SMALL_CAP);
    expect(records.createPending).toHaveBeenCalledTimes(SMALL_CAP);
    expect(queue.addMany.mock.calls.at(-1)?.[0]).toHaveLength(400);
  });

  it('logs the replay with the scope all', async () => {
    const { service, info } = setUp();
    await service.replay(SUB_ID, SINCE, UNTIL, 'all');
    expect(info).toHaveBeenCalledWith(
      expect.objectContaining({ subscriptionId: SUB_ID, scope: 'all', replayed: 0 }),
      'replay requested',
    );
  });
});

describe('DeliveryAdminService.sendTest', () => {
  it('appends a webhook.test event aimed at this subscription only', async () => {
    const { service, log } = setUp();
    const result = await service.sendTest(SUB_ID);
    expect(result.eventId).toMatch(/^test_[0-9a-f-]{36}$/);
    expect(result.deliveryId).toBe(deliveryIdOf(result.eventId, SUB_ID));
    expect(log.append).toHaveBeenCalledTimes(1);
    const [entries] = log.append.mock.calls[0] as unknown as [
      { id: string; body: string; targetSubscriptionId: string }[],
    ];
    expect(entries).toHaveLength(1);
    expect(entries[0].id).toBe(result.eventId);
    expect(entries[0].targetSubscriptionId).toBe(SUB_ID);
    const at = new Date(NOW).toISOString();
    expect(entries[0].body).toBe(
      webhookBody({
        id: result.eventId,
        type: 'webhook.test',
        occurredAt: at,
        receivedAt: at,
        data: { subscriptionId: SUB_ID, message: 'This is a test event from opentact-bridge.' },
        raw: {},
      } as NormalizedEvent),
    );
  });

  it('names a new event each time', async () => {
    const { service } = setUp();
    const a = await service.sendTest(SUB_ID);
    const b = await service.sendTest(SUB_ID);
    expect(a.eventId).not.toBe(b.eventId);
  });

  it('is a 409 for a disabled subscription, since the fan-out would never deliver it', async () => {
    const { service, subscriptions, log } = setUp();
    subscriptions.get.mockResolvedValue(subscription({ enabled: false }));
    const error = await rejection(service.sendTest(SUB_ID));
    expect(error).toBeInstanceOf(ConflictException);
    expect(error.message).toBe(
      `subscription ${SUB_ID} is disabled; enable it before sending a test event`,
    );
    expect(log.append).not.toHaveBeenCalled();
  });

  it('is a 404 for an unknown subscription', async () => {
    const { service, subscriptions, log } = setUp();
    subscriptions.get.mockResolvedValue(undefined);
    const error = await rejection(service.sendTest('sub_gone'));
    expect(error).toBeInstanceOf(NotFoundException);
    expect(error.message).toBe('subscription sub_gone not found');
    expect(log.append).not.toHaveBeenCalled();
  });
});
