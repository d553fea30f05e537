import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LoggedEvent } from '../events/event-log';
import type { MetricsService } from '../metrics/metrics.service';
import type { EventLogRetention } from './event-log-retention';
import { FanOutConsumer, type FanOutConsumerOptions } from './fan-out.consumer';

const CLAIM_AFTER_MS = 30_000;
/** Long enough that maintenance runs only in the tests that advance to it. */
const NO_MAINTENANCE_MS = 10 * 60_000 * 10;

function entry(entryId: string, over: Partial<LoggedEvent> = {}): LoggedEvent {
  return { entryId, body: `{"id":"evt_${entryId}"}`, deliveries: 1, ...over };
}

interface Deferred {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The consumer over doubles: the log hands out what a test pushes (a read with nothing to hand
 * out blocks until something is pushed or the connection is closed), and each fan-out finishes
 * when the test says so.
 */
function setUp(over: Partial<FanOutConsumerOptions> = {}) {
  const waiting: LoggedEvent[] = [];
  let blocked: { resolve: (e: LoggedEvent[]) => void; reject: (e: Error) => void } | undefined;
  const reads: { consumer: string; count: number; blockMs: number }[] = [];
  let readError: Error | undefined;
  const log = {
    ensureGroup: jest.fn(() => Promise.resolve()),
    readNew: jest.fn(
      (_c: Redis, consumer: string, count: number, blockMs: number): Promise<LoggedEvent[]> => {
        reads.push({ consumer, count, blockMs });
        if (readError) {
          const err = readError;
          readError = undefined;
          return Promise.reject(err);
        }
        if (waiting.length > 0) {
          return Promise.resolve(waiting.splice(0, count));
        }
        return new Promise((resolve, reject) => {
          blocked = { resolve, reject };
        });
      },
    ),
    ack: jest.fn((_ids: readonly string[]) => Promise.resolve()),
    touch: jest.fn((_consumer: string, _ids: readonly string[]) => Promise.resolve()),
    claimAbandoned: jest.fn((_consumer: string, _idle: number, _count: number, _max: number) =>
      Promise.resolve({ claimed: [] as LoggedEvent[], exhausted: [] as string[] }),
    ),
    removeIdleConsumers: jest.fn((_idle: number) => Promise.resolve(0)),
  };
  const retention = { enforce: jest.fn((_now: number) => Promise.resolve(undefined)) };
  const running = new Map<string, Deferred>();
  const fanOut = {
    fanOut: jest.fn(
      (e: LoggedEvent) =>
        new Promise<number>((resolve, reject) => {
          running.set(e.entryId, { resolve: () => resolve(1), reject });
        }),
    ),
  };
  const handlers = new Map<string, (err: unknown) => void>();
  const connection = {
    on: jest.fn((name: string, handler: (err: unknown) => void) => handlers.set(name, handler)),
    disconnect: jest.fn(() => {
      blocked?.reject(new Error('Connection is closed.'));
      blocked = undefined;
    }),
  };
  const metrics = {
    fanOutAbandoned: { inc: jest.fn() },
    fanOutErrors: { inc: jest.fn() },
  };
  const logger = {
    child: () => logger,
    debug: jest.fn(),
    info: jest.fn(),
    warn: jest.fn(),
    error: jest.fn(),
  };
  const consumer = new FanOutConsumer(
    log,
    fanOut,
    connection as unknown as Redis,
    metrics as unknown as MetricsService,
    logger as unknown as Logger,
    {
      concurrency: 4,
      claimAfterMs: CLAIM_AFTER_MS,
      maintenanceEveryMs: NO_MAINTENANCE_MS,
      ...over,
    },
    retention as unknown as Pick<EventLogRetention, 'enforce'>,
  );
  return {
    consumer,
    log,
    retention,
    fanOut,
    connection,
    handlers,
    metrics,
    logger,
    reads,
    /** New entries in the log: a blocked read returns them at once. */
    push(...entries: LoggedEvent[]) {
      waiting.push(...entries);
      if (blocked && waiting.length > 0) {
        const read = blocked;
        blocked = undefined;
        read.resolve(waiting.splice(0, reads[reads.length - 1].count));
      }
    },
    failNextRead(err: Error) {
      readError = err;
    },
    finish(entryId: string) {
      running.get(entryId)!.resolve();
    },
    fail(entryId: string, err: Error) {
      running.get(entryId)!.reject(err);
    },
    acked: () => log.ack.mock.calls.map(([ids]) => [...ids]),
  };
}

/** Lets promises and the immediates (acknowledgements) scheduled by them run. */
const settle = () => jest.advanceTimersByTimeAsync(0);

beforeEach(() => {
  jest.useFakeTimers({ now: 5_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('FanOutConsumer', () => {
  let stopAfter: FanOutConsumer | undefined;
  afterEach(async () => {
    if (stopAfter) {
      const stopped = stopAfter.stop(0);
      stopAfter = undefined;
      await settle();
      await stopped;
    }
  });

  describe('starting', () => {
    it('creates the group, waits until ready, then reads as its own consumer', async () => {
      const t = setUp({ concurrency: 3, blockMs: 250 });
      stopAfter = t.consumer;
      const ready = jest.fn(() => Promise.resolve());
      expect(t.consumer.isRunning).toBe(false);
      await t.consumer.start(ready);
      await settle();
      expect(t.log.ensureGroup).toHaveBeenCalledTimes(1);
      expect(ready).toHaveBeenCalledTimes(1);
      expect(t.consumer.isRunning).toBe(true);
      expect(t.consumer.name).toMatch(new RegExp(`^${hostname()}-${process.pid}-[0-9a-f]{6}$`));
      expect(t.reads).toEqual([{ consumer: t.consumer.name, count: 3, blockMs: 250 }]);
    });

    it('blocks a read for a second unless told otherwise', async () => {
      const t = setUp();
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      await settle();
      expect(t.reads[0].blockMs).toBe(1_000);
    });

    it('stays paused, retrying with a growing pause, while the log cannot be reached', async () => {
      const t = setUp();
      stopAfter = t.consumer;
      t.log.ensureGroup
        .mockRejectedValueOnce(new Error('ECONNREFUSED'))
        .mockRejectedValueOnce(new Error('ECONNREFUSED'));
      const ready = jest.fn(() => Promise.resolve());
      let started = false;
      void t.consumer.start(ready).then(() => {
        started = true;
      });
      await settle();
      expect(t.logger.warn).toHaveBeenCalledWith(
        { err: expect.objectContaining({ message: 'ECONNREFUSED' }) as unknown, attempt: 0 },
        'event log not reachable yet; fan-out stays paused',
      );
      await jest.advanceTimersByTimeAsync(249);
      expect(t.log.ensureGroup).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(t.log.ensureGroup).toHaveBeenCalledTimes(2);
      await jest.advanceTimersByTimeAsync(499);
      expect(t.log.ensureGroup).toHaveBeenCalledTimes(2);
      expect(started).toBe(false);
      expect(t.consumer.isRunning).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(t.log.ensureGroup).toHaveBeenCalledTimes(3);
      expect(started).toBe(true);
      expect(ready).toHaveBeenCalledTimes(1);
      expect(t.reads).toHaveLength(1);
    });

    it('waits for the subscriptions too: a failing ready keeps it paused', async () => {
      const t = setUp();
      stopAfter = t.consumer;
      const ready = jest
        .fn(() => Promise.resolve())
        .mockRejectedValueOnce(new Error('no snapshot'));
      void t.consumer.start(ready);
      await settle();
      expect(t.reads).toEqual([]);
      await jest.advanceTimersByTimeAsync(250);
      expect(ready).toHaveBeenCalledTimes(2);
      expect(t.reads).toHaveLength(1);
    });

    it('caps the pause between start attempts at five seconds', async () => {
      const t = setUp();
      t.log.ensureGroup.mockRejectedValue(new Error('down'));
      void t.consumer.start(() => Promise.resolve());
      // 250, 500, 1000, 2000, 4000, then 5000 each.
      await jest.advanceTimersByTimeAsync(250 + 500 + 1_000 + 2_000 + 4_000);
      expect(t.log.ensureGroup).toHaveBeenCalledTimes(6);
      await jest.advanceTimersByTimeAsync(4_999);
      expect(t.log.ensureGroup).toHaveBeenCalledTimes(6);
      await jest.advanceTimersByTimeAsync(1);
      expect(t.log.ensureGroup).toHaveBeenCalledTimes(7);
      await t.consumer.stop(0);
    });

    it('gives up starting when stopped meanwhile', async () => {
      const t = setUp();
      t.log.ensureGroup.mockRejectedValue(new Error('down'));
      const started = t.consumer.start(() => Promise.resolve());
      await settle();
      await t.consumer.stop(0);
      await jest.advanceTimersByTimeAsync(5_000);
      await started;
      expect(t.log.ensureGroup).toHaveBeenCalledTimes(1);
      expect(t.reads).toEqual([]);
      expect(t.consumer.isRunning).toBe(false);
    });
    it('does not start reading when stopped while it waited to be ready', async () => {
      const t = setUp();
      let becomeReady: () => void = () => undefined;
      const started = t.consumer.start(
        () =>
          new Promise<void>((resolve) => {
            becomeReady = resolve;
          }),
      );
      await settle();
      await t.consumer.stop(0);
      becomeReady();
      await started;
      await jest.advanceTimersByTimeAsync(5_000);
      expect(t.reads).toEqual([]);
      expect(t.consumer.isRunning).toBe(false);
      expect(t.logger.info).not.toHaveBeenCalled();
    });

    it('says it consumes, as which consumer and with how many slots', async () => {
      const t = setUp({ concurrency: 7 });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      expect(t.logger.info).toHaveBeenCalledWith(
        { consumer: t.consumer.name, concurrency: 7 },
        'fan-out consuming the event log',
      );
    });
  });

  describe('fanning out', () => {
    it('fans each entry out and acknowledges those done in one turn together', async () => {
      const t = setUp();
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0'), entry('2-0'), entry('3-0'));
      await settle();
      expect(t.fanOut.fanOut.mock.calls.map(([e]) => e.entryId)).toEqual(['1-0', '2-0', '3-0']);
      expect(t.consumer.inflightCount).toBe(3);
      t.finish('1-0');
      t.finish('3-0');
      await settle();
      expect(t.acked()).toEqual([['1-0', '3-0']]);
      expect(t.consumer.inflightCount).toBe(1);
      t.finish('2-0');
      await settle();
      expect(t.acked()).toEqual([['1-0', '3-0'], ['2-0']]);
      expect(t.consumer.inflightCount).toBe(0);
    });

    it('leaves an entry whose fan-out failed unacknowledged, and counts it', async () => {
      const t = setUp();
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0'));
      await settle();
      t.fail('1-0', new Error('redis timeout'));
      await settle();
      expect(t.log.ack).not.toHaveBeenCalled();
      expect(t.metrics.fanOutErrors.inc).toHaveBeenCalledTimes(1);
      expect(t.consumer.inflightCount).toBe(0);
      expect(t.logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ source: 'fan-out' }),
        'fan-out consumer error',
      );
    });

    it('gives up on an unreadable entry: counted, logged and acknowledged, never fanned out', async () => {
      const t = setUp();
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0', { body: '', unreadable: 'unknown format' }));
      await settle();
      expect(t.fanOut.fanOut).not.toHaveBeenCalled();
      expect(t.metrics.fanOutAbandoned.inc).toHaveBeenCalledTimes(1);
      expect(t.logger.error).toHaveBeenCalledWith(
        { entryId: '1-0', reason: 'unknown format' },
        'event log entry cannot be read; giving up on it',
      );
      expect(t.acked()).toEqual([['1-0']]);
      expect(t.consumer.inflightCount).toBe(0);
    });

    it('reads no more than the free slots, and waits for one when all are taken', async () => {
      const t = setUp({ concurrency: 2 });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0'), entry('2-0'), entry('3-0'));
      await settle();
      expect(t.reads.map((r) => r.count)).toEqual([2]);
      expect(t.fanOut.fanOut).toHaveBeenCalledTimes(2);
      t.finish('1-0');
      await settle();
      expect(t.reads.map((r) => r.count)).toEqual([2, 1]);
      expect(t.fanOut.fanOut.mock.calls.map(([e]) => e.entryId)).toEqual(['1-0', '2-0', '3-0']);
    });

    it('reads at most a hundred entries at a time', async () => {
      const t = setUp({ concurrency: 500 });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      await settle();
      expect(t.reads.map((r) => r.count)).toEqual([100]);
    });

    it('backs off for a second after a failed read, then reads again', async () => {
      const t = setUp();
      stopAfter = t.consumer;
      t.failNextRead(new Error('LOADING'));
      await t.consumer.start(() => Promise.resolve());
      await settle();
      expect(t.reads).toHaveLength(1);
      expect(t.logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ source: 'read' }),
        'fan-out consumer error',
      );
      await jest.advanceTimersByTimeAsync(999);
      expect(t.reads).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(t.reads).toHaveLength(2);
    });

    it('reports an acknowledgement that failed, and goes on', async () => {
      const t = setUp();
      stopAfter = t.consumer;
      t.log.ack.mockRejectedValueOnce(new Error('READONLY'));
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0'));
      await settle();
      t.finish('1-0');
      await settle();
      expect(t.logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ source: 'ack' }),
        'fan-out consumer error',
      );
      t.push(entry('2-0'));
      await settle();
      t.finish('2-0');
      await settle();
      expect(t.acked()).toEqual([['1-0'], ['2-0']]);
    });

    it('reports connection errors as they come', () => {
      const t = setUp();
      t.handlers.get('error')!(new Error('ECONNRESET'));
      expect(t.logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ source: 'connection' }),
        'fan-out consumer error',
      );
    });
  });

  describe('maintenance', () => {
    const EVERY_MS = 1_000;

    it('touches its own entries, trims the log and drops idle consumers', async () => {
      const t = setUp({ maintenanceEveryMs: EVERY_MS });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0'), entry('2-0'));
      await settle();
      await jest.advanceTimersByTimeAsync(EVERY_MS);
      expect(t.log.touch).toHaveBeenCalledWith(t.consumer.name, ['1-0', '2-0']);
      expect(t.retention.enforce).toHaveBeenCalledWith(5_000_000 + EVERY_MS);
      expect(t.log.removeIdleConsumers).toHaveBeenCalledWith(60 * 60_000);
    });

    it('looks for idle consumers only every ten minutes', async () => {
      const t = setUp({ maintenanceEveryMs: 60_000 });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      await jest.advanceTimersByTimeAsync(60_000);
      expect(t.log.removeIdleConsumers).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(10 * 60_000);
      expect(t.retention.enforce).toHaveBeenCalledTimes(11);
      expect(t.log.removeIdleConsumers).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(t.log.removeIdleConsumers).toHaveBeenCalledTimes(2);
    });

    it('claims abandoned entries into its free slots and fans them out', async () => {
      const t = setUp({ concurrency: 3, maintenanceEveryMs: EVERY_MS, maxDeliveries: 4 });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0'));
      await settle();
      t.log.claimAbandoned.mockResolvedValueOnce({
        claimed: [entry('0-5', { deliveries: 2 })],
        exhausted: [],
      });
      await jest.advanceTimersByTimeAsync(EVERY_MS);
      expect(t.log.claimAbandoned).toHaveBeenCalledWith(t.consumer.name, CLAIM_AFTER_MS, 2, 4);
      expect(t.fanOut.fanOut.mock.calls.map(([e]) => e.entryId)).toEqual(['1-0', '0-5']);
      expect(t.logger.info).toHaveBeenCalledWith(
        { entries: 1 },
        'claimed abandoned event log entries',
      );
      t.finish('0-5');
      await settle();
      expect(t.acked()).toEqual([['0-5']]);
    });

    it('does not fan out twice an entry it is still working on', async () => {
      const t = setUp({ maintenanceEveryMs: EVERY_MS });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0'));
      await settle();
      t.log.claimAbandoned.mockResolvedValueOnce({ claimed: [entry('1-0')], exhausted: [] });
      await jest.advanceTimersByTimeAsync(EVERY_MS);
      expect(t.fanOut.fanOut).toHaveBeenCalledTimes(1);
    });

    it('claims nothing while every slot is taken', async () => {
      const t = setUp({ concurrency: 1, maintenanceEveryMs: EVERY_MS });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0'));
      await settle();
      await jest.advanceTimersByTimeAsync(EVERY_MS);
      expect(t.log.touch).toHaveBeenCalledWith(t.consumer.name, ['1-0']);
      expect(t.log.claimAbandoned).not.toHaveBeenCalled();
      expect(t.retention.enforce).toHaveBeenCalledTimes(1);
    });

    it('gives up on entries handed out too often: counted, logged and acknowledged', async () => {
      const t = setUp({ maintenanceEveryMs: EVERY_MS });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      t.log.claimAbandoned.mockResolvedValueOnce({ claimed: [], exhausted: ['0-1', '0-2'] });
      await jest.advanceTimersByTimeAsync(EVERY_MS);
      expect(t.log.claimAbandoned).toHaveBeenCalledWith(t.consumer.name, CLAIM_AFTER_MS, 4, 10);
      expect(t.metrics.fanOutAbandoned.inc).toHaveBeenCalledWith(2);
      expect(t.logger.error).toHaveBeenCalledWith(
        { entries: ['0-1', '0-2'], maxDeliveries: 10 },
        'event log entries failed to fan out too many times; giving up on them',
      );
      expect(t.acked()).toEqual([['0-1', '0-2']]);
      expect(t.fanOut.fanOut).not.toHaveBeenCalled();
      expect(t.logger.info).not.toHaveBeenCalledWith(
        expect.anything(),
        'claimed abandoned event log entries',
      );
    });

    it('runs a third of the claim time apart by default, at most five seconds', async () => {
      const t = setUp({ maintenanceEveryMs: undefined, claimAfterMs: 6_000 });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      await jest.advanceTimersByTimeAsync(1_999);
      expect(t.retention.enforce).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);
      expect(t.retention.enforce).toHaveBeenCalledTimes(1);

      const slow = setUp({ maintenanceEveryMs: undefined, claimAfterMs: 60_000 });
      await slow.consumer.start(() => Promise.resolve());
      await jest.advanceTimersByTimeAsync(4_999);
      expect(slow.retention.enforce).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);
      expect(slow.retention.enforce).toHaveBeenCalledTimes(1);
      const stopped = slow.consumer.stop(0);
      await settle();
      await stopped;
    });

    it('reports a failed pass and runs the next one', async () => {
      const t = setUp({ maintenanceEveryMs: EVERY_MS });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      t.log.touch.mockRejectedValueOnce(new Error('NOSCRIPT'));
      await jest.advanceTimersByTimeAsync(EVERY_MS);
      expect(t.logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ source: 'maintenance' }),
        'fan-out consumer error',
      );
      expect(t.retention.enforce).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(EVERY_MS);
      expect(t.retention.enforce).toHaveBeenCalledTimes(1);
    });

    it('runs one pass at a time', async () => {
      const t = setUp({ maintenanceEveryMs: EVERY_MS });
      stopAfter = t.consumer;
      await t.consumer.start(() => Promise.resolve());
      let release!: () => void;
      t.log.touch.mockImplementationOnce(
        () =>
          new Promise<void>((resolve) => {
            release = resolve;
          }),
      );
      await jest.advanceTimersByTimeAsync(EVERY_MS * 3);
      expect(t.log.touch).toHaveBeenCalledTimes(1);
      release();
      await settle();
      expect(t.retention.enforce).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(EVERY_MS);
      expect(t.log.touch).toHaveBeenCalledTimes(2);
    });
  });

  describe('stopping', () => {
    it('stops reading at once, waits for entries in flight and acknowledges them', async () => {
      const t = setUp();
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0'));
      await settle();
      const readsBefore = t.reads.length;
      let stopped = false;
      const stopping = t.consumer.stop(5_000).then(() => {
        stopped = true;
      });
      expect(t.consumer.isRunning).toBe(false);
      expect(t.connection.disconnect).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(stopped).toBe(false);
      t.finish('1-0');
      await jest.advanceTimersByTimeAsync(20);
      await stopping;
      expect(t.acked()).toEqual([['1-0']]);
      expect(t.reads).toHaveLength(readsBefore);
      expect(t.logger.warn).not.toHaveBeenCalled();
    });

    it('gives up waiting after the timeout, leaving the rest to another worker', async () => {
      const t = setUp();
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0'), entry('2-0'));
      await settle();
      t.finish('2-0');
      let stopped = false;
      const stopping = t.consumer.stop(500).then(() => {
        stopped = true;
      });
      await jest.advanceTimersByTimeAsync(480);
      expect(stopped).toBe(false);
      await jest.advanceTimersByTimeAsync(40);
      await stopping;
      expect(t.acked()).toEqual([['2-0']]);
      expect(t.logger.warn).toHaveBeenCalledWith(
        { inflight: 1, timeoutMs: 500 },
        'events still being fanned out at shutdown; another worker will claim them',
      );
    });

    it('does not read again after a read ended by the stop', async () => {
      const t = setUp();
      await t.consumer.start(() => Promise.resolve());
      await settle();
      await t.consumer.stop(0);
      await jest.advanceTimersByTimeAsync(5_000);
      expect(t.reads).toHaveLength(1);
      expect(t.logger.warn).not.toHaveBeenCalled();
    });

    it('stops a loop waiting for a free slot', async () => {
      const t = setUp({ concurrency: 1 });
      await t.consumer.start(() => Promise.resolve());
      t.push(entry('1-0'));
      await settle();
      const stopping = t.consumer.stop(0);
      await settle();
      await stopping;
      t.finish('1-0');
      await settle();
      expect(t.reads).toHaveLength(1);
    });

    it('stops maintenance', async () => {
      const t = setUp({ maintenanceEveryMs: 1_000 });
      await t.consumer.start(() => Promise.resolve());
      await t.consumer.stop(0);
      await jest.advanceTimersByTimeAsync(5_000);
      expect(t.log.touch).not.toHaveBeenCalled();
    });
  });
});
