import type { EventLog, LoggedEvent } from '../events/event-log';
import type { DeliveryJobData } from '../queue/queue.constants';
import type { Subscription } from '../subscriptions/subscription.model';
import type { AttemptResolution, AttemptTarget, DeliveryAttempt } from './delivery-attempt.service';
import { PermanentDeliveryError, RetryableDeliveryError } from './delivery-errors';
import type { DeliveryLanes, LanePlace } from './delivery-lanes';
import type { DeliveryIdentity, DeliveryRecordRepository } from './delivery-record.repository';
import type { DeliveryTurns } from './delivery-turns';
import { DeliveryStatus } from './delivery.model';
import { subscriptionFixture } from './delivery.spec-fixture';
import { DeliveryProcessor, type DeliveryJob } from './delivery.processor';
import { PARKED_RECHECK_MS } from './delivery-turns';
import type { SubscriptionLimiter } from './subscription-limiter';

const SUB_ID = 'sub_processor';
const BODY = '{"id":"evt_1","type":"call.live"}';

function subscription(over: Partial<Subscription> = {}): Subscription {
  return subscriptionFixture({ id: SUB_ID, ...over });
}

function jobOf(over: Partial<DeliveryJobData> = {}, attemptsMade = 0): DeliveryJob {
  return {
    attemptsMade,
    data: {
      deliveryId: 'dlv_1',
      eventId: 'evt_1',
      entryId: '1-0',
      eventType: 'call.live',
      subscriptionId: SUB_ID,
      receivedAtMs: 1_000,
      ...over,
    },
  };
}

/** The processor with doubles for every part: each test sets what Redis would answer. */
function setUp(
  opts: {
    sub?: Subscription | undefined;
    status?: DeliveryStatus | undefined;
    entry?: LoggedEvent | undefined;
    byId?: LoggedEvent | undefined;
    resolution?: AttemptResolution;
    place?: LanePlace;
    acquire?: { kind: 'go'; slot?: object } | { kind: 'wait'; delayMs: number };
  } = {},
) {
  const has = (key: string): boolean => Object.prototype.hasOwnProperty.call(opts, key);
  const logged: LoggedEvent = { entryId: '1-0', body: BODY };
  const calls = {
    runs: [] as AttemptTarget[],
    skips: [] as { identity: DeliveryIdentity; reason: string }[],
    ends: [] as unknown[][],
    releases: [] as unknown[],
    getEntry: [] as string[],
    getById: [] as string[],
    statuses: [] as string[][],
  };
  const log = {
    getEntry: (id: string) => {
      calls.getEntry.push(id);
      return Promise.resolve(has('entry') ? opts.entry : logged);
    },
    get: (id: string) => {
      calls.getById.push(id);
      return Promise.resolve(has('byId') ? opts.byId : logged);
    },
  } as unknown as EventLog;
  const records = {
    statuses: (ids: string[]) => {
      calls.statuses.push(ids);
      return Promise.resolve([opts.status]);
    },
  } as unknown as DeliveryRecordRepository;
  const subs = { get: () => Promise.resolve(has('sub') ? opts.sub : subscription()) };
  const attempts = {
    run: (target: AttemptTarget) => {
      calls.runs.push(target);
      return Promise.resolve(opts.resolution ?? { kind: 'done' });
    },
    skip: (identity: DeliveryIdentity, reason: string) => {
      calls.skips.push({ identity, reason });
      return Promise.resolve();
    },
  } as unknown as DeliveryAttempt;
  const slot = { held: true };
  const limiter = {
    acquire: () => Promise.resolve(opts.acquire ?? { kind: 'go', slot }),
    release: (s: unknown) => {
      calls.releases.push(s);
      return Promise.resolve();
    },
  } as unknown as SubscriptionLimiter;
  const lanes = {
    place: () => Promise.resolve(opts.place ?? 'first'),
  } as unknown as DeliveryLanes;
  const turns = {
    end: (...args: unknown[]) => {
      calls.ends.push(args);
      return Promise.resolve();
    },
  } as unknown as DeliveryTurns;
  const processor = new DeliveryProcessor(log, records, subs, attempts, limiter, lanes, turns);
  return { processor, calls, slot };
}

describe('DeliveryProcessor', () => {
  it('makes the attempt with the stored body, the job data and the attempt number', async () => {
    const { processor, calls, slot } = setUp();
    await expect(processor.process(jobOf({ manual: true }, 2))).resolves.toBeUndefined();
    expect(calls.runs).toHaveLength(1);
    const [target] = calls.runs;
    expect(target).toMatchObject({
      identity: {
        deliveryId: 'dlv_1',
        eventId: 'evt_1',
        eventType: 'call.live',
        subscriptionId: SUB_ID,
      },
      subscription: { id: SUB_ID },
      body: BODY,
      attemptNumber: 3,
      manual: true,
      receivedAtMs: 1_000,
    });
    expect(calls.releases).toEqual([slot]);
    expect(calls.ends).toEqual([[SUB_ID, undefined, 'dlv_1']]);
    // The delivery's own record says whether it is still to be made.
    expect(calls.statuses).toEqual([['dlv_1']]);
  });

  it('counts the fan-out inline attempt (attemptOffset) in the attempt number', async () => {
    const { processor, calls } = setUp();
    await processor.process(jobOf({ attemptOffset: 1 }, 0));
    expect(calls.runs[0].attemptNumber).toBe(2);
    expect(calls.runs[0].manual).toBe(false);
  });

  it.each([
    ['deleted', { sub: undefined }, 'subscription deleted'],
    ['disabled', { sub: subscription({ enabled: false }) }, 'subscription disabled'],
  ] as const)(
    'skips a queued retry to a subscription %s, without an attempt',
    async (_what, opts, reason) => {
      const { processor, calls } = setUp(opts);
      await expect(processor.process(jobOf({}, 1))).resolves.toBeUndefined();
      expect(calls.runs).toEqual([]);
      expect(calls.skips).toHaveLength(1);
      expect(calls.skips[0].reason).toBe(reason);
      expect(calls.skips[0].identity.deliveryId).toBe('dlv_1');
      // Its lane (if any) moves on, or the deliveries behind it would wait for ever.
      expect(calls.ends).toEqual([[SUB_ID, undefined, 'dlv_1']]);
    },
  );

  it('skips an event no longer retained (neither its entry nor its id is in the log)', async () => {
    const { processor, calls } = setUp({ entry: undefined, byId: undefined });
    await processor.process(jobOf());
    expect(calls.getEntry).toEqual(['1-0']);
    expect(calls.getById).toEqual(['evt_1']);
    expect(calls.runs).toEqual([]);
    expect(calls.skips.map((s) => s.reason)).toEqual(['event no longer retained']);
  });

  it('finds the event by id when the job has no entry id, or the entry is gone', async () => {
    const byId: LoggedEvent = { entryId: '2-0', body: '{"by":"id"}' };
    const noEntry = setUp({ byId });
    await noEntry.processor.process(jobOf({ entryId: undefined }));
    expect(noEntry.calls.getEntry).toEqual([]);
    expect(noEntry.calls.runs[0].body).toBe('{"by":"id"}');

    const entryGone = setUp({ entry: undefined, byId });
    await entryGone.processor.process(jobOf());
    expect(entryGone.calls.runs[0].body).toBe('{"by":"id"}');
  });

  it('skips an event whose stored body cannot be read, naming why', async () => {
    const { processor, calls } = setUp({
      entry: { entryId: '1-0', body: '', unreadable: 'unknown format 9' },
    });
    await processor.process(jobOf());
    expect(calls.runs).toEqual([]);
    expect(calls.skips.map((s) => s.reason)).toEqual([
      'stored event cannot be read: unknown format 9',
    ]);
  });

  it.each([DeliveryStatus.Succeeded, DeliveryStatus.Dead, DeliveryStatus.Skipped])(
    'does nothing for a delivery already %s (a duplicate job), but frees its lane',
    async (status) => {
      const { processor, calls } = setUp({ status });
      await expect(processor.process(jobOf())).resolves.toBeUndefined();
      expect(calls.runs).toEqual([]);
      expect(calls.skips).toEqual([]);
      expect(calls.ends).toEqual([[SUB_ID, undefined, 'dlv_1']]);
    },
  );

  it.each([DeliveryStatus.Pending, DeliveryStatus.Failing, undefined])(
    'attempts a delivery whose record is %s',
    async (status) => {
      const { processor, calls } = setUp({ status });
      await processor.process(jobOf());
      expect(calls.runs).toHaveLength(1);
    },
  );

  it('throws a RetryableDeliveryError carrying the decided delay, and keeps the lane', async () => {
    const { processor, calls, slot } = setUp({
      resolution: { kind: 'retry', reason: 'status 500', delayMs: 1234, nextAttemptAtMs: 9 },
    });
    const error = await processor.process(jobOf()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableDeliveryError);
    expect((error as RetryableDeliveryError).delayMs).toBe(1234);
    expect((error as RetryableDeliveryError).message).toBe('status 500');
    expect(calls.ends).toEqual([]);
    expect(calls.releases).toEqual([slot]);
  });

  it('fails the job for good (PermanentDeliveryError) when the delivery is dead, and frees the lane', async () => {
    const ordering = { key: 'call:1', seq: 2 };
    const { processor, calls } = setUp({
      resolution: { kind: 'dead', reason: 'endpoint answered 410 Gone' },
    });
    const error = await processor.process(jobOf({ ordering })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDeliveryError);
    expect((error as Error).message).toBe('endpoint answered 410 Gone');
    expect(calls.ends).toEqual([[SUB_ID, ordering, 'dlv_1']]);
  });

  it('releases the limiter slot when the attempt throws', async () => {
    const { processor, calls, slot } = setUp();
    (processor as unknown as { attempts: { run: () => Promise<never> } }).attempts.run = () =>
      Promise.reject(new Error('redis down'));
    await expect(processor.process(jobOf())).rejects.toThrow('redis down');
    expect(calls.releases).toEqual([slot]);
  });

  it('postpones, without an attempt, a delivery that is not first in its lane', async () => {
    const { processor, calls } = setUp({ place: 'waiting' });
    await expect(
      processor.process(jobOf({ ordering: { key: 'call:1', seq: 3 } })),
    ).resolves.toEqual({ postponeMs: PARKED_RECHECK_MS, reason: 'turn' });
    expect(calls.runs).toEqual([]);
    expect(calls.ends).toEqual([]);
  });

  it('sends at once an ordered delivery that is no longer in its lane (retried by hand)', async () => {
    const { processor, calls } = setUp({ place: 'absent' });
    await processor.process(jobOf({ ordering: { key: 'call:1', seq: 3 }, manual: true }));
    expect(calls.runs).toHaveLength(1);
  });

  it('ignores lanes for a delivery without ordering', async () => {
    const { processor, calls } = setUp({ place: 'waiting' });
    await processor.process(jobOf());
    expect(calls.runs).toHaveLength(1);
  });

  it('postpones by the limiter delay when the subscription is at its limit', async () => {
    const { processor, calls } = setUp({ acquire: { kind: 'wait', delayMs: 250 } });
    await expect(processor.process(jobOf())).resolves.toEqual({
      postponeMs: 250,
      reason: 'limit',
    });
    expect(calls.runs).toEqual([]);
    expect(calls.releases).toEqual([]);
  });
});
