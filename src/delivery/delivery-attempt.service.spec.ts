import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import type { OperationalStatsRepository } from '../metrics/operational-stats.repository';
import { WebhookSigner } from '../webhook-security/webhook-signer';
import { type AttemptTarget, DeliveryAttempt } from './delivery-attempt.service';
import type { DeliveryIdentity, DeliveryRecordRepository } from './delivery-record.repository';
import { type DeliveryAttempt as AttemptRecord, DeliveryStatus } from './delivery.model';
import type { EndpointHealth } from './endpoint-health';
import type { OperationalEvents } from './operational-events';
import type { SubscriptionLimiter } from './subscription-limiter';
import type { HttpAttemptResult, WebhookHttpClient } from './webhook-http.client';
import { WebhookSender } from './webhook-sender';

const SCHEDULE_MS = [1_000, 5_000, 30_000];
const RETRY_AFTER_MAX_MS = 60_000;
const GOOD_SECRET = `whsec_${Buffer.from('a-secret-of-some-length').toString('base64')}`;

const identity: DeliveryIdentity = {
  deliveryId: 'dlv_1',
  eventId: 'evt_1',
  eventType: 'call.live',
  subscriptionId: 'sub_1',
  createdAtMs: 0,
};

function target(over: Partial<AttemptTarget> = {}): AttemptTarget {
  return {
    identity,
    subscription: {
      id: 'sub_1',
      url: 'http://127.0.0.1:9/hook',
      headers: {},
      secrets: [{ secret: GOOD_SECRET, createdAt: '2026-01-01T00:00:00.000Z' }],
    },
    body: '{"id":"evt_1"}',
    attemptNumber: 1,
    manual: false,
    receivedAtMs: Date.now(),
    ...over,
  };
}

function answer(statusCode: number, headers: Record<string, string> = {}): HttpAttemptResult {
  return { statusCode, headers, body: '', bodyTruncated: false, durationMs: 12 };
}

interface LoggerDouble {
  child: (bindings: object) => LoggerDouble;
  isLevelEnabled: (level: string) => boolean;
  debug: jest.Mock;
  info: jest.Mock;
  warn: jest.Mock;
  error: jest.Mock;
}

interface Recorded {
  attempt: AttemptRecord;
  state: { status: DeliveryStatus; nextAttemptAtMs?: number };
}

/**
 * The attempt with the real sender and signer over a scripted HTTP client, so a secret that cannot
 * sign fails where it would in production; Redis-backed parts are doubles that record their calls.
 */
function setUp(reply: (url: string) => HttpAttemptResult | Promise<HttpAttemptResult>) {
  const calls = {
    posts: [] as { url: string; headers: Record<string, string> }[],
    recorded: [] as Recorded[],
    gone: [] as string[],
    failed: [] as string[],
    succeeded: [] as string[],
    finished: [] as boolean[],
    pauses: [] as number[],
    dead: [] as { attempts: number; lastError: string; lastStatusCode?: number }[],
    counted: [] as string[],
    setStatus: [] as unknown[][],
    created: [] as string[],
    order: [] as string[],
  };
  const http = {
    post: (url: string, headers: Record<string, string>) => {
      calls.posts.push({ url, headers });
      return Promise.resolve(reply(url));
    },
  } as unknown as WebhookHttpClient;
  const sender = new WebhookSender(http, new WebhookSigner());
  let existing = true;
  const records = {
    recordAttempt: (
      _id: DeliveryIdentity,
      attempt: AttemptRecord,
      state: Recorded['state'],
    ): Promise<number> => {
      calls.order.push('record');
      calls.recorded.push({ attempt, state });
      return Promise.resolve(calls.recorded.length);
    },
    setStatus: (...args: unknown[]) => {
      calls.setStatus.push(args);
      const had = existing;
      existing = true;
      return Promise.resolve(had);
    },
    createPending: (id: DeliveryIdentity) => {
      calls.created.push(id.deliveryId);
      return Promise.resolve();
    },
  } as unknown as DeliveryRecordRepository;
  const health = {
    started: () => ({ ticket: 1 }),
    finished: (_t: unknown, ok: boolean) => void calls.finished.push(ok),
    succeeded: (id: string) => (calls.succeeded.push(id), Promise.resolve()),
    failed: (id: string) => (calls.failed.push(id), Promise.resolve(undefined)),
    gone: (id: string) => (calls.gone.push(id), Promise.resolve()),
  } as unknown as EndpointHealth;
  const stats = {
    countDelivery: (what: string) => void calls.counted.push(what),
  } as unknown as OperationalStatsRepository;
  const limiter = {
    pause: (_id: string, untilMs: number) => (calls.pauses.push(untilMs), Promise.resolve()),
  } as unknown as SubscriptionLimiter;
  const operational = {
    deliveryDead: (data: { attempts: number; lastError: string; lastStatusCode?: number }) => {
      calls.dead.push(data);
      return Promise.resolve();
    },
  } as unknown as OperationalEvents;
  const config = {
    delivery: {
      retryScheduleMs: SCHEDULE_MS,
      retryJitter: 0,
      retryAfterMaxMs: RETRY_AFTER_MAX_MS,
    },
  } as unknown as AppConfig;
  const metrics = new MetricsService();
  const logger: LoggerDouble = {
    child: jest.fn(() => logger),
    isLevelEnabled: () => true,
    debug: jest.fn(),
    info: jest.fn(),
    warn: jest.fn(),
    error: jest.fn(),
  };
  const attempt = new DeliveryAttempt(
    config,
    sender,
    records,
    health,
    metrics,
    stats,
    limiter,
    operational,
    logger as unknown as Logger,
  );
  return {
    attempt,
    calls,
    metrics,
    logger,
    noRecord: () => {
      existing = false;
    },
  };
}

describe('DeliveryAttempt', () => {
  it('records a 2xx as succeeded and tells the endpoint health', async () => {
    const { attempt, calls } = setUp(() => answer(204));
    await expect(attempt.run(target())).resolves.toEqual({ kind: 'done' });
    expect(calls.recorded).toHaveLength(1);
    expect(calls.recorded[0].state).toEqual({ status: DeliveryStatus.Succeeded });
    expect(calls.recorded[0].attempt).toMatchObject({ attempt: 1, statusCode: 204 });
    expect(calls.succeeded).toEqual(['sub_1']);
    expect(calls.finished).toEqual([true]);
    expect(calls.counted).toEqual(['success']);
    // Signed with the subscription's secret, the event id as webhook-id.
    expect(calls.posts[0].headers['webhook-id']).toBe('evt_1');
    expect(calls.posts[0].headers['webhook-signature']).toMatch(/^v1,/);
  });

  it('schedules the next attempt on the schedule, and records when it is due', async () => {
    const { attempt, calls } = setUp(() => answer(500));
    const before = Date.now();
    const resolution = await attempt.run(target({ attemptNumber: 2 }));
    const after = Date.now();
    expect(resolution).toMatchObject({ kind: 'retry', reason: 'status 500', delayMs: 5_000 });
    if (resolution.kind !== 'retry') {
      throw new Error('expected a retry');
    }
    expect(resolution.nextAttemptAtMs).toBeGreaterThanOrEqual(before + 5_000);
    expect(resolution.nextAttemptAtMs).toBeLessThanOrEqual(after + 5_000);
    expect(calls.recorded[0].state).toEqual({
      status: DeliveryStatus.Failing,
      nextAttemptAtMs: resolution.nextAttemptAtMs,
    });
    expect(calls.recorded[0].attempt.error).toBe('status 500');
    expect(calls.failed).toEqual(['sub_1']);
    expect(calls.counted).toEqual(['retry']);
  });

  it('queues the retry (beforeRetryRecorded) with the delay, before recording the failure', async () => {
    const { attempt, calls } = setUp(() => answer(502));
    const delays: number[] = [];
    await attempt.run(target(), {
      beforeRetryRecorded: (delayMs) => {
        calls.order.push('queue');
        delays.push(delayMs);
        return Promise.resolve();
      },
    });
    expect(delays).toEqual([SCHEDULE_MS[0]]);
    expect(calls.order).toEqual(['queue', 'record']);
  });

  it('honours Retry-After on a later attempt: the delay and the recorded time both follow it', async () => {
    const { attempt, calls } = setUp(() => answer(429, { 'retry-after': '20' }));
    const before = Date.now();
    const resolution = await attempt.run(target({ attemptNumber: 2 }));
    expect(resolution).toMatchObject({ kind: 'retry', delayMs: 20_000 });
    if (resolution.kind !== 'retry') {
      throw new Error('expected a retry');
    }
    expect(resolution.nextAttemptAtMs - before).toBeGreaterThanOrEqual(20_000);
    expect(resolution.nextAttemptAtMs - before).toBeLessThan(21_000);
    expect(calls.recorded[0].state.nextAttemptAtMs).toBe(resolution.nextAttemptAtMs);
    // The whole subscription waits, not only this delivery.
    expect(calls.pauses).toHaveLength(1);
    expect(calls.pauses[0] - before).toBeGreaterThanOrEqual(20_000);
  });

  it('never retries sooner than the schedule when Retry-After is shorter', async () => {
    const { attempt, calls } = setUp(() => answer(503, { 'retry-after': '1' }));
    const resolution = await attempt.run(target({ attemptNumber: 3 }));
    expect(resolution).toMatchObject({ kind: 'retry', delayMs: SCHEDULE_MS[2] });
    expect(calls.pauses).toHaveLength(1);
  });

  it('a 410 on a retry kills the delivery and disables the subscription, with no next attempt', async () => {
    const { attempt, calls } = setUp(() => answer(410));
    const resolution = await attempt.run(target({ attemptNumber: 3 }));
    expect(resolution).toEqual({ kind: 'dead', reason: 'endpoint answered 410 Gone' });
    expect(calls.recorded).toHaveLength(1);
    expect(calls.recorded[0].state).toEqual({ status: DeliveryStatus.Dead });
    expect(calls.recorded[0].attempt).toMatchObject({ attempt: 3, statusCode: 410 });
    expect(calls.gone).toEqual(['sub_1']);
    expect(calls.failed).toEqual([]);
    expect(calls.counted).toEqual(['disabled']);
  });

  it('gives up after the last scheduled attempt: dead, announced, with the last error', async () => {
    const { attempt, calls } = setUp(() => answer(500));
    const resolution = await attempt.run(target({ attemptNumber: SCHEDULE_MS.length + 1 }));
    expect(resolution).toEqual({ kind: 'dead', reason: 'every attempt failed; last: status 500' });
    expect(calls.recorded[0].state).toEqual({ status: DeliveryStatus.Dead });
    expect(calls.dead).toEqual([
      expect.objectContaining({ attempts: 1, lastError: 'status 500', lastStatusCode: 500 }),
    ]);
    expect(calls.counted).toEqual(['dead']);
  });

  it('the attempt before the last is still retried', async () => {
    const { attempt } = setUp(() => answer(500));
    const resolution = await attempt.run(target({ attemptNumber: SCHEDULE_MS.length }));
    expect(resolution).toMatchObject({ kind: 'retry', delayMs: SCHEDULE_MS.at(-1) });
  });

  it('a stored secret that cannot sign is a failed attempt with its reason, retried, never sent', async () => {
    const { attempt, calls } = setUp(() => answer(200));
    const resolution = await attempt.run(
      target({
        attemptNumber: 2,
        subscription: {
          ...target().subscription,
          secrets: [{ secret: 'whsec_%%%not-base64%%%', createdAt: '2026-01-01T00:00:00.000Z' }],
        },
      }),
    );
    expect(calls.posts).toEqual([]);
    expect(resolution).toMatchObject({ kind: 'retry', delayMs: SCHEDULE_MS[1] });
    const [{ attempt: recorded, state }] = calls.recorded;
    expect(state.status).toBe(DeliveryStatus.Failing);
    expect(recorded.statusCode).toBeUndefined();
    expect(recorded.durationMs).toBe(0);
    expect(recorded.error).toMatch(/^internal: .*base64/);
    expect(calls.finished).toEqual([false]);
  });

  it('an error thrown while sending (a URL no longer http) is recorded and retried', async () => {
    const { attempt, calls } = setUp(() => {
      throw new TypeError('webhook URL must be http or https, got ftp:');
    });
    const resolution = await attempt.run(target());
    expect(resolution).toMatchObject({ kind: 'retry' });
    expect(calls.recorded[0].attempt.error).toBe(
      'internal: webhook URL must be http or https, got ftp:',
    );
  });

  it('a manual attempt does not count toward the endpoint failing', async () => {
    const { attempt, calls } = setUp(() => answer(500));
    await attempt.run(target({ manual: true }));
    expect(calls.failed).toEqual([]);
  });

  it('records the response body, and marks it truncated', async () => {
    const { attempt, calls } = setUp(() => ({
      ...answer(500),
      body: 'partial',
      bodyTruncated: true,
    }));
    await attempt.run(target());
    expect(calls.recorded[0].attempt).toMatchObject({
      responseBody: 'partial',
      responseTruncated: true,
      durationMs: 12,
    });
  });

  it('skips: marks the record skipped with the reason', async () => {
    const { attempt, calls } = setUp(() => answer(200));
    await attempt.skip(identity, 'subscription disabled');
    expect(calls.setStatus).toEqual([
      ['dlv_1', DeliveryStatus.Skipped, expect.any(Number), 'subscription disabled'],
    ]);
    expect(calls.created).toEqual([]);
    expect(calls.counted).toEqual(['skipped']);
  });

  it('skips a delivery without a record by creating one that says so', async () => {
    const { attempt, calls, noRecord } = setUp(() => answer(200));
    noRecord();
    await attempt.skip(identity, 'subscription deleted');
    expect(calls.created).toEqual(['dlv_1']);
    expect(calls.setStatus).toHaveLength(2);
    expect(calls.setStatus[1]).toEqual([
      'dlv_1',
      DeliveryStatus.Skipped,
      expect.any(Number),
      'subscription deleted',
    ]);
  });

  describe('metrics', () => {
    /** The value of a counter or histogram series with exactly these labels. */
    async function value(
      metric: {
        get(): Promise<{ values: { labels: object; value: number; metricName?: string }[] }>;
      },
      labels: object,
      metricName?: string,
    ): Promise<number | undefined> {
      const { values } = await metric.get();
      return values.find(
        (v) =>
          JSON.stringify(v.labels) === JSON.stringify(labels) &&
          (metricName === undefined || v.metricName === metricName),
      )?.value;
    }

    it('counts a success by status class and times the attempt and the whole way', async () => {
      const { attempt, metrics } = setUp(() => answer(204));
      const receivedAtMs = Date.now() - 3_000;
      await attempt.run(target({ receivedAtMs }));
      expect(await value(metrics.deliveries, { outcome: 'success', status_class: '2xx' })).toBe(1);
      const dur = metrics.attemptDuration;
      expect(
        await value(dur, { status_class: '2xx' }, 'otb_delivery_attempt_duration_seconds_sum'),
      ).toBeCloseTo(0.012, 6);
      const latency = metrics.endToEndLatency;
      expect(await value(latency, {}, 'otb_end_to_end_latency_seconds_count')).toBe(1);
      const seconds = await value(latency, {}, 'otb_end_to_end_latency_seconds_sum');
      expect(seconds).toBeGreaterThanOrEqual(3);
      expect(seconds).toBeLessThan(4);
    });

    it('leaves the end-to-end latency to first, automatic attempts', async () => {
      for (const over of [{ attemptNumber: 2 }, { manual: true }]) {
        const { attempt, metrics } = setUp(() => answer(200));
        await attempt.run(target(over));
        expect(
          await value(metrics.endToEndLatency, {}, 'otb_end_to_end_latency_seconds_count'),
        ).toBe(0);
      }
    });

    it('counts a retry, a dead delivery, a disabling and a skip by outcome', async () => {
      const retry = setUp(() => answer(503));
      await retry.attempt.run(target());
      expect(await value(retry.metrics.deliveries, { outcome: 'retry', status_class: '5xx' })).toBe(
        1,
      );
      expect(retry.calls.pauses).toEqual([]);
      expect(await value(retry.metrics.subscriptionPauses, {})).toBe(0);

      const dead = setUp(() => answer(500));
      await dead.attempt.run(target({ attemptNumber: SCHEDULE_MS.length + 1 }));
      expect(await value(dead.metrics.deliveries, { outcome: 'dead', status_class: '5xx' })).toBe(
        1,
      );

      const gone = setUp(() => answer(410));
      await gone.attempt.run(target());
      expect(
        await value(gone.metrics.deliveries, { outcome: 'disabled', status_class: '4xx' }),
      ).toBe(1);

      const skipped = setUp(() => answer(200));
      await skipped.attempt.skip(identity, 'subscription disabled');
      expect(
        await value(skipped.metrics.deliveries, { outcome: 'skipped', status_class: 'none' }),
      ).toBe(1);
    });

    it('counts a pause asked for with Retry-After', async () => {
      const { attempt, metrics } = setUp(() => answer(429, { 'retry-after': '20' }));
      await attempt.run(target());
      expect(await value(metrics.subscriptionPauses, {})).toBe(1);
    });
  });

  it('records no response body or truncation for an empty, whole answer', async () => {
    const { attempt, calls } = setUp(() => answer(204));
    await attempt.run(target());
    expect(calls.recorded[0].attempt.responseBody).toBeUndefined();
    expect(calls.recorded[0].attempt.responseTruncated).toBeUndefined();
  });

  it('records no response for an attempt that was never sent', async () => {
    const { attempt, calls } = setUp(() => {
      throw new Error('cannot sign');
    });
    await attempt.run(target());
    expect(calls.recorded[0].attempt).toMatchObject({ error: 'internal: cannot sign' });
    expect(calls.recorded[0].attempt.responseBody).toBeUndefined();
    expect(calls.recorded[0].attempt.responseTruncated).toBeUndefined();
  });

  it('records the last attempt of a dead delivery with its status and reason', async () => {
    const { attempt, calls } = setUp(() => answer(500));
    await attempt.run(target({ attemptNumber: SCHEDULE_MS.length + 1 }));
    expect(calls.recorded[0].attempt).toMatchObject({
      attempt: SCHEDULE_MS.length + 1,
      statusCode: 500,
      error: 'status 500',
    });
  });

  it('warns an operator of a dead delivery, with what identifies it', async () => {
    const { attempt, logger } = setUp(() => answer(500));
    await attempt.run(target({ attemptNumber: SCHEDULE_MS.length + 1 }));
    expect(logger.child).toHaveBeenCalledWith({ component: 'delivery' });
    expect(logger.warn).toHaveBeenCalledWith(
      {
        deliveryId: 'dlv_1',
        subscriptionId: 'sub_1',
        attempt: SCHEDULE_MS.length + 1,
        statusCode: 500,
        reason: 'status 500',
      },
      'delivery dead: every attempt failed',
    );
  });

  it('logs a scheduled retry with when it is due', async () => {
    const { attempt, logger } = setUp(() => answer(500));
    const resolution = await attempt.run(target());
    if (resolution.kind !== 'retry') {
      throw new Error('expected a retry');
    }
    expect(logger.info).toHaveBeenCalledWith(
      {
        deliveryId: 'dlv_1',
        subscriptionId: 'sub_1',
        attempt: 1,
        statusCode: 500,
        reason: 'status 500',
        nextAttemptAt: new Date(resolution.nextAttemptAtMs).toISOString(),
      },
      'delivery failed; retry scheduled',
    );
  });

  it('logs a success at debug level, with what identifies it', async () => {
    const { attempt, logger } = setUp(() => answer(200));
    await attempt.run(target());
    expect(logger.debug).toHaveBeenCalledWith(
      { deliveryId: 'dlv_1', attempt: 1, statusCode: 200 },
      'delivered',
    );
  });

  it('builds no success or retry log line when its level is off', async () => {
    // Every level on but the one each line is written at.
    const { attempt, logger } = setUp(() => answer(200));
    logger.isLevelEnabled = (level) => level !== 'debug';
    await attempt.run(target());
    const failing = setUp(() => answer(500));
    failing.logger.isLevelEnabled = (level) => level !== 'info';
    await expect(failing.attempt.run(target())).resolves.toMatchObject({ kind: 'retry' });
    expect(logger.debug).not.toHaveBeenCalled();
    expect(failing.logger.info).not.toHaveBeenCalled();
  });

  it('logs a skipped delivery with its reason', async () => {
    const { attempt, logger } = setUp(() => answer(200));
    await attempt.skip(identity, 'event expired');
    expect(logger.info).toHaveBeenCalledWith(
      { deliveryId: 'dlv_1', reason: 'event expired' },
      'delivery skipped',
    );
  });
});
