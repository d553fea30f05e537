import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import type { LoggedEvent } from '../events/event-log';
import type { DeliveryQueue } from '../queue/delivery-queue';
import { type DeliveryJobData, deliveryIdOf } from '../queue/queue.constants';
import { compileSubscription } from '../subscriptions/subscription-matcher';
import type { SubscriptionRegistry } from '../subscriptions/subscription-registry.service';
import type { Subscription } from '../subscriptions/subscription.model';
import type {
  AttemptOptions,
  AttemptResolution,
  AttemptTarget,
  DeliveryAttempt,
} from './delivery-attempt.service';
import type { DeliveryLanes, LaneEntry, Registration } from './delivery-lanes';
import type { DeliveryIdentity, DeliveryRecordRepository } from './delivery-record.repository';
import { type DeliveryTurns, PARKED_RECHECK_MS } from './delivery-turns';
import { DeliveryStatus } from './delivery.model';
import { subscriptionFixture } from './delivery.spec-fixture';
import type { EndpointHealth } from './endpoint-health';
import { FanOut } from './fan-out.service';
import type { SubscriptionLimiter } from './subscription-limiter';

const EVENT_ID = 'evt_fan';
const RECEIVED_AT = '2026-03-01T10:00:00.000Z';
const RECEIVED_AT_MS = Date.parse(RECEIVED_AT);
const LOCK_MS = 1_000;

function bodyOf(type: string, data: Record<string, unknown> = { direction: 'inbound' }): string {
  return JSON.stringify({
    id: EVENT_ID,
    type,
    occurredAt: '2026-03-01T09:59:59.000Z',
    receivedAt: RECEIVED_AT,
    data,
    raw: {},
  });
}

function sub(id: string, over: Partial<Subscription> = {}): Subscription {
  return subscriptionFixture({ id, url: `http://127.0.0.1:9/${id}`, ...over });
}

function logged(over: Partial<LoggedEvent> = {}): LoggedEvent {
  return { entryId: '5-0', body: bodyOf('call.live'), deliveries: 1, ...over };
}

const idOf = (subscriptionId: string): string => deliveryIdOf(EVENT_ID, subscriptionId);

interface Options {
  subs?: Subscription[];
  statuses?: Record<string, DeliveryStatus | undefined>;
  resolution?: AttemptResolution;
  runError?: Error;
  /** Retry delay the attempt announces before recording a retry. */
  retryDelayMs?: number;
  pausedMs?: Record<string, number>;
  notInline?: string[];
  acquire?: { kind: 'go'; slot?: object } | { kind: 'wait'; delayMs: number };
  /** Answers of lanes.register, in turn; the last one repeats. */
  registrations?: (Registration | Error)[];
  /** Or an answer chosen by whether the place is forced. */
  register?: (force: boolean) => Registration;
}

/** The fan-out with doubles for every part; `calls` keeps what each was asked, in order. */
function setUp(opts: Options = {}) {
  const calls = {
    order: [] as string[],
    runs: [] as AttemptTarget[],
    created: [] as DeliveryIdentity[],
    added: [] as { job: DeliveryJobData; options: unknown }[],
    statuses: [] as string[][],
    ends: [] as unknown[][],
    wakes: [] as unknown[][],
    releases: [] as unknown[],
    registers: [] as { args: [string, number, LaneEntry[], boolean]; atMs: number }[],
  };
  const subs = opts.subs ?? [sub('sub_a')];
  const registry = {
    getEnabled: () => Promise.resolve(subs.map(compileSubscription)),
  } as unknown as SubscriptionRegistry;
  const records = {
    createPending: (identity: DeliveryIdentity) => {
      calls.order.push(`create ${identity.subscriptionId}`);
      calls.created.push(identity);
      return Promise.resolve('created');
    },
    statuses: (ids: string[]) => {
      calls.statuses.push(ids);
      const bySub = opts.statuses ?? {};
      return Promise.resolve(ids.map((id) => bySub[subs.find((s) => idOf(s.id) === id)?.id ?? '']));
    },
  } as unknown as DeliveryRecordRepository;
  const attempts = {
    run: async (t: AttemptTarget, hooks: AttemptOptions = {}) => {
      calls.order.push(`run ${t.identity.subscriptionId}`);
      calls.runs.push(t);
      if (opts.runError) {
        throw opts.runError;
      }
      if (opts.retryDelayMs !== undefined) {
        await hooks.beforeRetryRecorded?.(opts.retryDelayMs);
      }
      return opts.resolution ?? { kind: 'done' };
    },
  } as unknown as DeliveryAttempt;
  const health = {
    canAttemptInline: (id: string) => !(opts.notInline ?? []).includes(id),
  } as unknown as EndpointHealth;
  const slot = { slot: true };
  const limiter = {
    pausedForMs: (id: string) => opts.pausedMs?.[id] ?? 0,
    acquire: () => Promise.resolve(opts.acquire ?? { kind: 'go', slot }),
    release: (s: unknown) => {
      calls.order.push('release');
      calls.releases.push(s);
      return Promise.resolve();
    },
  } as unknown as SubscriptionLimiter;
  const answers = opts.registrations ?? [{ kind: 'registered', heads: [] }];
  const lanes = {
    register: (key: string, seq: number, entries: LaneEntry[], force: boolean) => {
      calls.registers.push({ args: [key, seq, entries, force], atMs: Date.now() });
      const answer =
        opts.register?.(force) ?? answers[Math.min(calls.registers.length, answers.length) - 1];
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  } as unknown as DeliveryLanes;
  const turns = {
    end: (...args: unknown[]) => {
      calls.order.push('end');
      calls.ends.push(args);
      return Promise.resolve();
    },
    wakeIfFirst: (...args: unknown[]) => {
      calls.order.push('wake');
      calls.wakes.push(args);
      return Promise.resolve();
    },
  } as unknown as DeliveryTurns;
  const queue = {
    add: (job: DeliveryJobData, options: unknown) => {
      calls.order.push(`add ${job.subscriptionId}`);
      calls.added.push({ job, options });
      return Promise.resolve();
    },
  } as unknown as DeliveryQueue;
  const logger = {
    child: jest.fn(),
    isLevelEnabled: jest.fn((_level: string) => false),
    debug: jest.fn(),
    info: jest.fn(),
    warn: jest.fn(),
    error: jest.fn(),
  };
  logger.child.mockReturnValue(logger);
  const config = { delivery: { lockMs: LOCK_MS } } as unknown as AppConfig;
  const fanOut = new FanOut(
    config,
    registry,
    records,
    attempts,
    health,
    limiter,
    lanes,
    turns,
    queue,
    logger as unknown as Logger,
  );
  return { fanOut, calls, logger, slot };
}

const attempted = (runs: AttemptTarget[]): string[] =>
  runs.map((r) => r.identity.subscriptionId).sort();

describe('FanOut', () => {
  describe('which subscriptions an event goes to', () => {
    it('starts one delivery per subscription whose event types and filter match', async () => {
      const { fanOut, calls } = setUp({
        subs: [
          sub('sub_calls', { eventTypes: ['call.*'] }),
          sub('sub_messages', { eventTypes: ['message.*'] }),
          sub('sub_outbound', { filter: { direction: 'outbound' } }),
          sub('sub_inbound', { filter: { direction: 'inbound' } }),
        ],
      });
      await expect(fanOut.fanOut(logged())).resolves.toBe(2);
      expect(attempted(calls.runs)).toEqual(['sub_calls', 'sub_inbound']);
      expect(calls.added).toEqual([]);
      expect(calls.created).toEqual([]);
    });

    it('starts nothing when no subscription matches', async () => {
      const { fanOut, calls } = setUp({
        subs: [sub('sub_messages', { eventTypes: ['message.*'] })],
      });
      await expect(fanOut.fanOut(logged({ deliveries: 3 }))).resolves.toBe(0);
      expect(calls.runs).toEqual([]);
      expect(calls.added).toEqual([]);
      expect(calls.statuses).toEqual([]);
    });

    it('sends a test event to the subscription it names only, whatever its event types', async () => {
      const { fanOut, calls } = setUp({
        subs: [sub('sub_any'), sub('sub_target', { eventTypes: ['message.*'] })],
      });
      await expect(fanOut.fanOut(logged({ targetSubscriptionId: 'sub_target' }))).resolves.toBe(1);
      expect(attempted(calls.runs)).toEqual(['sub_target']);
    });

    it('sends a test event nowhere when the subscription it names is not enabled', async () => {
      const { fanOut, calls } = setUp({ subs: [sub('sub_any')] });
      await expect(fanOut.fanOut(logged({ targetSubscriptionId: 'sub_gone' }))).resolves.toBe(0);
      expect(calls.runs).toEqual([]);
    });
  });

  describe('the first attempt, made inline', () => {
    it('runs attempt 1 with the stored body, the delivery identity and the receive time', async () => {
      const subscription = sub('sub_a');
      const { fanOut, calls } = setUp({ subs: [subscription] });
      const before = Date.now();
      const event = logged();
      await fanOut.fanOut(event);
      const after = Date.now();
      expect(calls.runs).toHaveLength(1);
      const [run] = calls.runs;
      expect(run).toEqual({
        identity: {
          deliveryId: idOf('sub_a'),
          eventId: EVENT_ID,
          eventType: 'call.live',
          subscriptionId: 'sub_a',
          createdAtMs: expect.any(Number) as number,
          // The record holds its event in the log while the delivery can still be attempted.
          entryId: '5-0',
        },
        subscription,
        body: event.body,
        attemptNumber: 1,
        manual: false,
        receivedAtMs: RECEIVED_AT_MS,
      });
      expect(run.identity.createdAtMs).toBeGreaterThanOrEqual(before);
      expect(run.identity.createdAtMs).toBeLessThanOrEqual(after);
    });

    it('releases the limiter slot and ends the turn once the delivery is done', async () => {
      const { fanOut, calls, slot } = setUp();
      await fanOut.fanOut(logged());
      expect(calls.ends).toEqual([['sub_a', undefined, idOf('sub_a')]]);
      expect(calls.releases).toEqual([slot]);
      expect(calls.order).toEqual(['run sub_a', 'end', 'release']);
    });

    it('ends the turn of a dead delivery too', async () => {
      const { fanOut, calls } = setUp({ resolution: { kind: 'dead', reason: 'HTTP 410' } });
      await fanOut.fanOut(logged());
      expect(calls.ends).toEqual([['sub_a', undefined, idOf('sub_a')]]);
    });

    it('queues the retry with the delay the attempt chose, counting the inline attempt', async () => {
      const { fanOut, calls, slot } = setUp({
        retryDelayMs: 4_000,
        resolution: { kind: 'retry', reason: 'HTTP 500', delayMs: 4_000, nextAttemptAtMs: 1 },
      });
      await fanOut.fanOut(logged());
      expect(calls.added).toEqual([
        {
          job: {
            deliveryId: idOf('sub_a'),
            eventId: EVENT_ID,
            entryId: '5-0',
            eventType: 'call.live',
            subscriptionId: 'sub_a',
            receivedAtMs: RECEIVED_AT_MS,
          },
          options: { delayMs: 4_000, attemptsUsed: 1 },
        },
      ]);
      // Still its turn: the retry is the same delivery.
      expect(calls.ends).toEqual([]);
      expect(calls.releases).toEqual([slot]);
    });

    it('releases the slot and fails the fan-out when the attempt throws', async () => {
      const { fanOut, calls, slot } = setUp({ runError: new Error('redis down') });
      await expect(fanOut.fanOut(logged())).rejects.toThrow('redis down');
      expect(calls.releases).toEqual([slot]);
      expect(calls.ends).toEqual([]);
    });

    it('queues the delivery, delayed, when its subscription is at its limit', async () => {
      const { fanOut, calls } = setUp({ acquire: { kind: 'wait', delayMs: 750 } });
      await expect(fanOut.fanOut(logged())).resolves.toBe(1);
      expect(calls.runs).toEqual([]);
      expect(calls.created.map((c) => c.deliveryId)).toEqual([idOf('sub_a')]);
      expect(calls.added).toEqual([
        {
          job: expect.objectContaining({ deliveryId: idOf('sub_a') }) as unknown,
          options: { delayMs: 750 },
        },
      ]);
      expect(calls.order).toEqual(['create sub_a', 'add sub_a']);
      // No slot was taken.
      expect(calls.releases).toEqual([]);
    });
  });

  describe('deliveries that go through the queue', () => {
    it('queues a paused subscription, delayed by the rest of its pause', async () => {
      const { fanOut, calls } = setUp({
        subs: [sub('sub_paused'), sub('sub_ok')],
        pausedMs: { sub_paused: 12_000 },
      });
      await expect(fanOut.fanOut(logged())).resolves.toBe(2);
      expect(attempted(calls.runs)).toEqual(['sub_ok']);
      expect(calls.added).toEqual([
        {
          job: expect.objectContaining({ subscriptionId: 'sub_paused' }) as unknown,
          options: { delayMs: 12_000 },
        },
      ]);
    });

    it('queues, without delay, an endpoint that cannot take an inline attempt', async () => {
      const { fanOut, calls } = setUp({
        subs: [sub('sub_failing'), sub('sub_ok')],
        notInline: ['sub_failing'],
      });
      await fanOut.fanOut(logged());
      expect(attempted(calls.runs)).toEqual(['sub_ok']);
      // Strict: a job without ordering carries no `ordering` key at all.
      expect(calls.added).toStrictEqual([
        {
          job: {
            deliveryId: idOf('sub_failing'),
            eventId: EVENT_ID,
            entryId: '5-0',
            eventType: 'call.live',
            subscriptionId: 'sub_failing',
            receivedAtMs: RECEIVED_AT_MS,
          },
          options: { delayMs: undefined },
        },
      ]);
    });

    it("logs as the 'fan-out' component", () => {
      const { logger } = setUp();
      expect(logger.child.mock.calls).toEqual([[{ component: 'fan-out' }]]);
    });

    it('logs each event at debug with how many went inline and how many were queued', async () => {
      const { fanOut, logger } = setUp({
        subs: [sub('sub_failing'), sub('sub_ok'), sub('sub_other')],
        notInline: ['sub_failing'],
      });
      await fanOut.fanOut(logged());
      expect(logger.debug).not.toHaveBeenCalled();
      logger.isLevelEnabled.mockImplementation((level: string) => level === 'debug');
      await fanOut.fanOut(logged({ entryId: '6-0' }));
      expect(logger.debug.mock.calls).toEqual([
        [{ eventId: EVENT_ID, inline: 2, queued: 1 }, 'event fanned out'],
      ]);
    });

    it('records the pending delivery before its job is added', async () => {
      const { fanOut, calls } = setUp({ notInline: ['sub_a'] });
      await fanOut.fanOut(logged());
      expect(calls.created).toEqual([
        {
          deliveryId: idOf('sub_a'),
          eventId: EVENT_ID,
          eventType: 'call.live',
          subscriptionId: 'sub_a',
          createdAtMs: expect.any(Number) as number,
          entryId: '5-0',
        },
      ]);
      expect(calls.order).toEqual(['create sub_a', 'add sub_a']);
    });
  });

  describe('an entry fanned out again', () => {
    it('leaves started deliveries alone and queues again the ones still pending', async () => {
      const { fanOut, calls, logger } = setUp({
        subs: [sub('sub_new'), sub('sub_pending'), sub('sub_done'), sub('sub_failing')],
        statuses: {
          sub_pending: DeliveryStatus.Pending,
          sub_done: DeliveryStatus.Succeeded,
          sub_failing: DeliveryStatus.Failing,
        },
      });
      await expect(fanOut.fanOut(logged({ deliveries: 2 }))).resolves.toBe(2);
      expect(calls.statuses).toEqual([
        [idOf('sub_new'), idOf('sub_pending'), idOf('sub_done'), idOf('sub_failing')],
      ]);
      expect(attempted(calls.runs)).toEqual(['sub_new']);
      expect(calls.added).toEqual([
        {
          job: expect.objectContaining({ subscriptionId: 'sub_pending' }) as unknown,
          options: { delayMs: undefined },
        },
      ]);
      expect(logger.info).toHaveBeenCalledWith(
        { deliveries: 2 },
        'event fanned out before; its started deliveries are left alone',
      );
    });

    it('does not say so when every delivery is still to be made', async () => {
      const { fanOut, calls, logger } = setUp({ subs: [sub('sub_a')] });
      await expect(fanOut.fanOut(logged({ deliveries: 2 }))).resolves.toBe(1);
      expect(attempted(calls.runs)).toEqual(['sub_a']);
      expect(logger.info).not.toHaveBeenCalled();
    });

    it('starts nothing when every delivery was already made', async () => {
      const { fanOut, calls } = setUp({
        subs: [sub('sub_done')],
        statuses: { sub_done: DeliveryStatus.Dead },
      });
      await expect(fanOut.fanOut(logged({ deliveries: 4 }))).resolves.toBe(0);
      expect(calls.runs).toEqual([]);
      expect(calls.added).toEqual([]);
    });

    it('skips the record check on a first read', async () => {
      const { fanOut, calls } = setUp();
      await fanOut.fanOut(logged({ deliveries: 1 }));
      expect(calls.statuses).toEqual([]);
      expect(calls.runs).toHaveLength(1);
    });
  });

  describe('ordered subscriptions', () => {
    const ordering = { key: 'call_9', seq: 3 };

    it('registers the event in its key order with the lanes of the ordered subscriptions', async () => {
      const { fanOut, calls } = setUp({
        subs: [sub('sub_ordered', { ordering: 'per-key' }), sub('sub_plain', { ordering: 'none' })],
        registrations: [{ kind: 'registered', heads: [true] }],
      });
      await expect(fanOut.fanOut(logged({ ordering }))).resolves.toBe(2);
      expect(calls.registers.map((r) => r.args)).toEqual([
        ['call_9', 3, [{ subscriptionId: 'sub_ordered', deliveryId: idOf('sub_ordered') }], false],
      ]);
      expect(attempted(calls.runs)).toEqual(['sub_ordered', 'sub_plain']);
      // The turn of the ordered delivery ends with its key; the other has none.
      expect(calls.ends).toEqual(
        expect.arrayContaining([
          ['sub_ordered', ordering, idOf('sub_ordered')],
          ['sub_plain', undefined, idOf('sub_plain')],
        ]),
      );
    });

    it('carries the ordering in the job of an ordered delivery', async () => {
      const { fanOut, calls } = setUp({
        subs: [sub('sub_ordered', { ordering: 'per-key' })],
        notInline: ['sub_ordered'],
        registrations: [{ kind: 'registered', heads: [true] }],
      });
      await fanOut.fanOut(logged({ ordering }));
      expect(calls.added).toEqual([
        {
          job: expect.objectContaining({ subscriptionId: 'sub_ordered', ordering }) as unknown,
          options: { delayMs: undefined },
        },
      ]);
    });

    it('parks a delivery behind an earlier one of its key and wakes it if that one ended', async () => {
      const { fanOut, calls } = setUp({
        subs: [sub('sub_ordered', { ordering: 'per-key' })],
        registrations: [{ kind: 'registered', heads: [false] }],
      });
      await expect(fanOut.fanOut(logged({ ordering }))).resolves.toBe(1);
      expect(calls.runs).toEqual([]);
      expect(calls.added).toEqual([
        {
          job: expect.objectContaining({ deliveryId: idOf('sub_ordered'), ordering }) as unknown,
          options: { delayMs: PARKED_RECHECK_MS },
        },
      ]);
      expect(calls.wakes).toEqual([['sub_ordered', 'call_9', idOf('sub_ordered')]]);
      expect(calls.order).toEqual(['create sub_ordered', 'add sub_ordered', 'wake']);
    });

    it('parks a delivery behind its key even when the endpoint could take it inline', async () => {
      const { fanOut, calls } = setUp({
        subs: [
          sub('sub_first', { ordering: 'per-key' }),
          sub('sub_behind', { ordering: 'per-key' }),
        ],
        statuses: { sub_behind: DeliveryStatus.Pending },
        registrations: [{ kind: 'registered', heads: [true, false] }],
      });
      await fanOut.fanOut(logged({ ordering, deliveries: 2 }));
      expect(attempted(calls.runs)).toEqual(['sub_first']);
      expect(calls.added).toEqual([
        {
          job: expect.objectContaining({ subscriptionId: 'sub_behind' }) as unknown,
          options: { delayMs: PARKED_RECHECK_MS },
        },
      ]);
    });

    it('ignores the key for a subscription without ordering', async () => {
      const { fanOut, calls } = setUp({
        subs: [sub('sub_plain')],
        registrations: [{ kind: 'registered', heads: [] }],
      });
      await fanOut.fanOut(logged({ ordering }));
      expect(calls.registers.map((r) => r.args)).toEqual([['call_9', 3, [], false]]);
      expect(attempted(calls.runs)).toEqual(['sub_plain']);
      expect(calls.added).toEqual([]);
      expect(calls.ends).toEqual([['sub_plain', undefined, idOf('sub_plain')]]);
    });

    it('registers a keyed event that goes nowhere, so the next of its key does not wait', async () => {
      const { fanOut, calls } = setUp({ subs: [] });
      await expect(fanOut.fanOut(logged({ ordering }))).resolves.toBe(0);
      expect(calls.registers.map((r) => r.args)).toEqual([['call_9', 3, [], false]]);
    });

    it('does not register an event without a key', async () => {
      const { fanOut, calls } = setUp({ subs: [sub('sub_ordered', { ordering: 'per-key' })] });
      await fanOut.fanOut(logged());
      expect(calls.registers).toEqual([]);
      expect(calls.runs).toHaveLength(1);
      expect(calls.ends).toEqual([['sub_ordered', undefined, idOf('sub_ordered')]]);
    });

    it('goes on when the registration nobody waits for fails, and logs it', async () => {
      const failure = new Error('lanes unavailable');
      const { fanOut, calls, logger } = setUp({
        subs: [sub('sub_plain')],
        registrations: [failure],
      });
      await expect(fanOut.fanOut(logged({ ordering }))).resolves.toBe(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls.runs).toHaveLength(1);
      expect(logger.warn).toHaveBeenCalledWith(
        { err: failure, key: 'call_9' },
        'could not register an event in its key order',
      );
    });

    it('fails the fan-out when the registration of ordered deliveries fails', async () => {
      const { fanOut, calls } = setUp({
        subs: [sub('sub_ordered', { ordering: 'per-key' })],
        registrations: [new Error('lanes unavailable')],
      });
      await expect(fanOut.fanOut(logged({ ordering }))).rejects.toThrow('lanes unavailable');
      expect(calls.runs).toEqual([]);
      expect(calls.added).toEqual([]);
    });

    describe('waiting for the previous event of the key', () => {
      beforeEach(() => {
        jest.useFakeTimers({ now: 1_000_000 });
      });
      afterEach(() => {
        jest.useRealTimers();
      });

      it('retries with a growing pause until the previous event is registered', async () => {
        const { fanOut, calls, logger } = setUp({
          subs: [sub('sub_ordered', { ordering: 'per-key' })],
          registrations: [
            { kind: 'wait' },
            { kind: 'wait' },
            { kind: 'wait' },
            { kind: 'registered', heads: [true] },
          ],
        });
        const done = fanOut.fanOut(logged({ ordering }));
        await jest.advanceTimersByTimeAsync(100);
        await expect(done).resolves.toBe(1);
        const at = calls.registers.map((r) => r.atMs - 1_000_000);
        expect(at).toEqual([0, 5, 15, 35]);
        expect(calls.registers.map((r) => r.args[3])).toEqual([false, false, false, false]);
        expect(calls.runs).toHaveLength(1);
        expect(logger.warn).not.toHaveBeenCalled();
      });

      it('goes ahead, forcing its place, once the lock and a margin have passed', async () => {
        const { fanOut, calls, logger } = setUp({
          subs: [sub('sub_ordered', { ordering: 'per-key' })],
          register: (force) => (force ? { kind: 'registered', heads: [true] } : { kind: 'wait' }),
        });
        const done = fanOut.fanOut(logged({ ordering }));
        await jest.advanceTimersByTimeAsync(LOCK_MS + 5_000 - 1);
        expect(calls.registers.some((r) => r.args[3])).toBe(false);
        await jest.advanceTimersByTimeAsync(500);
        await expect(done).resolves.toBe(1);
        const last = calls.registers[calls.registers.length - 1];
        expect(last.args[3]).toBe(true);
        expect(last.atMs - 1_000_000).toBeGreaterThanOrEqual(LOCK_MS + 5_000);
        const gaps = calls.registers.slice(1).map((r, i) => r.atMs - calls.registers[i].atMs);
        // Doubling from 5 ms, capped at half a second.
        expect(gaps.slice(0, 9)).toEqual([5, 10, 20, 40, 80, 160, 320, 500, 500]);
        expect(calls.runs).toHaveLength(1);
        expect(logger.warn).toHaveBeenCalledWith(
          { key: 'call_9', seq: 3 },
          'the previous event of this key never came; going on',
        );
      });
    });
  });
});
