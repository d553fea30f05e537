import { DelayedError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import type { EventLog } from '../events/event-log';
import type { MetricsService } from '../metrics/metrics.service';
import { ManagedWorker, type ManagedWorkerOptions } from '../queue/managed-worker';
import { type DeliveryJobData, QueueName } from '../queue/queue.constants';
import { bullConnection, createRedis } from '../redis/redis-connection.factory';
import type { SubscriptionRegistry } from '../subscriptions/subscription-registry.service';
import { PermanentDeliveryError, RetryableDeliveryError } from './delivery-errors';
import type { EventLogRetention } from './event-log-retention';
import { DeliveryWorkers } from './delivery-workers.service';
import type { DeliveryProcessor } from './delivery.processor';
import { FanOutConsumer } from './fan-out.consumer';
import type { FanOut } from './fan-out.service';

// The two consumers and the connections they would open are replaced: what is checked here is
// how the workers wire them from configuration and drive them through the application's life.
jest.mock('./fan-out.consumer');
jest.mock('../queue/managed-worker');
jest.mock('../redis/redis-connection.factory');

const ConsumerMock = jest.mocked(FanOutConsumer);
const WorkerMock = jest.mocked(ManagedWorker);

const REDIS_CFG = { url: 'redis://127.0.0.1:6379', prefix: '{otb-test}' };
const SCHEDULE_MS = [1_000, 5_000];

function setUp(processResult?: { postponeMs: number }) {
  const fanOutConnection = { purpose: 'fan-out connection' } as unknown as Redis;
  const deliveryConnection = { purpose: 'delivery connection' };
  jest.mocked(createRedis).mockReturnValue(fanOutConnection);
  jest.mocked(bullConnection).mockReturnValue(deliveryConnection);
  const config = {
    redis: REDIS_CFG,
    shutdownTimeoutMs: 7_500,
    delivery: {
      lockMs: 45_000,
      fanoutConcurrency: 12,
      workerConcurrency: 34,
      retryScheduleMs: SCHEDULE_MS,
      retryJitter: 0,
    },
  } as unknown as AppConfig;
  const log = { name: 'event log' } as unknown as EventLog;
  const fanOut = { name: 'fan-out' } as unknown as FanOut;
  const processor = {
    process: jest.fn((_job: Job<DeliveryJobData>) => Promise.resolve(processResult)),
  };
  const registry = { getEnabled: jest.fn(() => Promise.resolve([])) };
  const metrics = { name: 'metrics' } as unknown as MetricsService;
  const redis = { name: 'redis' } as unknown as Redis;
  const children = new Map<string, unknown>();
  const logger = {
    child: jest.fn((bindings: { component: string }) => {
      const child = { component: bindings.component };
      children.set(bindings.component, child);
      return child;
    }),
  };
  const retention = { name: 'retention' };
  const workers = new DeliveryWorkers(
    config,
    log,
    fanOut,
    processor as unknown as DeliveryProcessor,
    retention as unknown as EventLogRetention,
    registry as unknown as SubscriptionRegistry,
    metrics,
    redis,
    logger as unknown as Logger,
  );
  const consumer = ConsumerMock.mock.instances[0];
  const worker = WorkerMock.mock.instances[0];
  const workerOptions = WorkerMock.mock.calls[0][0] as ManagedWorkerOptions<DeliveryJobData>;
  return {
    workers,
    config,
    log,
    retention,
    fanOut,
    processor,
    registry,
    metrics,
    redis,
    children,
    fanOutConnection,
    deliveryConnection,
    consumer,
    worker,
    workerOptions,
  };
}

function job(): Job<DeliveryJobData> & { moveToDelayed: jest.Mock } {
  return { moveToDelayed: jest.fn(() => Promise.resolve()) } as unknown as Job<DeliveryJobData> & {
    moveToDelayed: jest.Mock;
  };
}

const backoff = (options: ManagedWorkerOptions<DeliveryJobData>) =>
  options.workerOptions.settings!.backoffStrategy! as (
    attemptsMade: number,
    type?: string,
    err?: Error,
  ) => number;

beforeEach(() => {
  jest.clearAllMocks();
});

describe('DeliveryWorkers', () => {
  describe('wiring', () => {
    it('reads the event log on a connection of its own, as the fan-out consumer', () => {
      const t = setUp();
      expect(createRedis).toHaveBeenCalledWith(REDIS_CFG, {
        purpose: 'worker',
        connectionName: 'otb-fanout',
      });
      expect(ConsumerMock).toHaveBeenCalledWith(
        t.log,
        t.fanOut,
        t.fanOutConnection,
        t.metrics,
        t.children.get('fan-out'),
        { concurrency: 12, claimAfterMs: 45_000 },
        t.retention,
      );
      expect(t.workers.fanOut).toBe(t.consumer);
    });

    it('consumes the deliveries queue with the configured concurrency and lock', () => {
      const t = setUp();
      expect(bullConnection).toHaveBeenCalledWith(REDIS_CFG, {
        purpose: 'worker',
        connectionName: 'otb-delivery',
      });
      expect(t.workerOptions).toMatchObject({
        queueName: QueueName.Deliveries,
        workerOptions: {
          connection: t.deliveryConnection,
          prefix: '{otb-test}',
          concurrency: 34,
          lockDuration: 45_000,
        },
        redis: t.redis,
      });
      expect(t.workerOptions.logger).toBe(t.children.get('workers'));
      expect(t.workers.deliveryWorker).toBe(t.worker);
    });
  });

  describe('a delivery job', () => {
    it('is handed to the processor, and completes when the processor is done', async () => {
      const t = setUp();
      const j = job();
      await expect(t.workerOptions.processor(j, 'token-1')).resolves.toBeUndefined();
      expect(t.processor.process).toHaveBeenCalledWith(j);
      expect(j.moveToDelayed).not.toHaveBeenCalled();
    });

    it('goes back to the delayed set, not counted as an attempt, when postponed', async () => {
      jest.useFakeTimers({ now: 2_000_000 });
      try {
        const t = setUp({ postponeMs: 3_000 });
        const j = job();
        await expect(t.workerOptions.processor(j, 'token-1')).rejects.toBeInstanceOf(DelayedError);
        expect(j.moveToDelayed).toHaveBeenCalledWith(2_003_000, 'token-1');
      } finally {
        jest.useRealTimers();
      }
    });

    it('cannot be moved without its lock token, and completes as processed', async () => {
      const t = setUp({ postponeMs: 3_000 });
      const j = job();
      await expect(t.workerOptions.processor(j)).resolves.toBeUndefined();
      expect(j.moveToDelayed).not.toHaveBeenCalled();
    });
  });

  describe('the wait before a retry', () => {
    it('is the one the attempt decided when it says', () => {
      const t = setUp();
      const wait = backoff(t.workerOptions);
      expect(wait(1, 'custom', new RetryableDeliveryError('HTTP 429', 42_000))).toBe(42_000);
    });

    it('follows the retry schedule otherwise', () => {
      const t = setUp();
      const wait = backoff(t.workerOptions);
      expect(wait(1, 'custom', new RetryableDeliveryError('HTTP 500'))).toBe(1_000);
      expect(wait(2, 'custom', new Error('socket hang up'))).toBe(5_000);
      expect(wait(2)).toBe(5_000);
    });

    it('stops retrying once the schedule is spent', () => {
      const t = setUp();
      const wait = backoff(t.workerOptions);
      expect(wait(3, 'custom', new PermanentDeliveryError('HTTP 410'))).toBe(-1);
    });
  });

  describe('life cycle', () => {
    it('starts both consumers, the fan-out once the subscriptions are known', async () => {
      const t = setUp();
      t.workers.onApplicationBootstrap();
      expect(t.worker.start).toHaveBeenCalledTimes(1);
      expect(t.consumer.start).toHaveBeenCalledTimes(1);
      const [ready] = jest.mocked(t.consumer.start).mock.calls[0];
      expect(t.registry.getEnabled).not.toHaveBeenCalled();
      await ready();
      expect(t.registry.getEnabled).toHaveBeenCalledTimes(1);
    });

    it('is running only while both consumers are', () => {
      const t = setUp();
      const states = [
        [true, true, true],
        [true, false, false],
        [false, true, false],
      ] as const;
      for (const [fanOut, deliveries, running] of states) {
        Object.defineProperty(t.consumer, 'isRunning', { value: fanOut, configurable: true });
        Object.defineProperty(t.worker, 'isRunning', { value: deliveries, configurable: true });
        expect(t.workers.running).toBe(running);
      }
    });

    it('stops both consumers with the shutdown timeout, and waits for both', async () => {
      const t = setUp();
      let finishClose!: () => void;
      jest.mocked(t.worker.close).mockReturnValue(
        new Promise<void>((resolve) => {
          finishClose = resolve;
        }),
      );
      jest.mocked(t.consumer.stop).mockResolvedValue(undefined);
      let done = false;
      const shutdown = t.workers.beforeApplicationShutdown().then(() => {
        done = true;
      });
      expect(t.consumer.stop).toHaveBeenCalledWith(7_500);
      expect(t.worker.close).toHaveBeenCalledWith(7_500);
      await Promise.resolve();
      expect(done).toBe(false);
      finishClose();
      await shutdown;
      expect(done).toBe(true);
    });
  });
});
