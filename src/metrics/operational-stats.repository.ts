import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { redisKey } from '../redis/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';

/** What one ingest process says about its Opentact connection. */
export interface ConnectionReport {
  instance: string;
  state: string;
  authenticated: boolean;
  connectedSince?: string;
  lastFrameAt?: string;
  reconnects: number;
  paused: boolean;
  /** Auth acknowledgements refused and logins rejected since the process started. */
  authFailures?: number;
  /** Why the link is not authenticated (connect error, auth refusal); absent once it is. */
  lastError?: string;
  /** The Opentact event subscriptions (OPENTACT_SUBSCRIBE) as this process last ensured them. */
  opentactSubscriptions?: { state: string; failures: number; lastError?: string };
  /** When the process last reported (ISO). */
  reportedAt: string;
}

/** Delivery outcomes counted per minute, across every worker. */
export const DELIVERY_OUTCOMES = ['success', 'retry', 'dead', 'disabled', 'skipped'] as const;
export type DeliveryOutcomeName = (typeof DELIVERY_OUTCOMES)[number];

export interface MinuteCounts {
  /** Start of the minute (ISO). */
  minute: string;
  counts: Record<DeliveryOutcomeName, number>;
}

const MINUTE_MS = 60_000;
/** A report older than this is from a process that is gone. */
export const REPORT_STALE_MS = 30_000;
const REPORT_TTL_S = 60;
const MINUTES_KEPT_S = 2 * 3600;
const MAX_INSTANCES = 100;
const FLUSH_EVERY_MS = 5_000;

function emptyCounts(): Record<DeliveryOutcomeName, number> {
  return { success: 0, retry: 0, dead: 0, disabled: 0, skipped: 0 };
}

/**
 * What every process tells the others for `GET /v1/status`, kept in Redis because the process
 * serving the status is rarely the one that holds the WSS or sends the webhooks:
 *   <prefix>:status:connections          sorted set: instance by last report (ms)
 *   <prefix>:status:connection:<inst>    JSON report, expiring
 *   <prefix>:stats:deliveries:<minute>   hash: outcome → count, expiring after two hours
 * Delivery counts are added up in memory and written every few seconds, one HINCRBY per outcome
 * and minute: nothing per delivery.
 */
@Injectable()
export class OperationalStatsRepository implements OnModuleDestroy {
  private readonly prefix: string;
  private readonly pending = new Map<number, Record<DeliveryOutcomeName, number>>();
  private flushTimer?: NodeJS.Timeout;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
  ) {
    this.prefix = config.redis.prefix;
  }

  private connectionsKey(): string {
    return redisKey(this.prefix, 'status', 'connections');
  }

  private connectionKey(instance: string): string {
    return redisKey(this.prefix, 'status', 'connection', instance);
  }

  private minuteKey(minuteMs: number): string {
    return redisKey(this.prefix, 'stats', 'deliveries', String(minuteMs));
  }

  async reportConnection(report: ConnectionReport, nowMs: number): Promise<void> {
    await this.redis
      .multi()
      .set(this.connectionKey(report.instance), JSON.stringify(report), 'EX', REPORT_TTL_S)
      .zadd(this.connectionsKey(), nowMs, report.instance)
      .zremrangebyscore(this.connectionsKey(), '-inf', nowMs - REPORT_STALE_MS)
      .exec();
  }

  /** Reports of the ingest processes alive now. */
  async connections(nowMs: number): Promise<ConnectionReport[]> {
    const instances = await this.redis.zrangebyscore(
      this.connectionsKey(),
      nowMs - REPORT_STALE_MS,
      '+inf',
      'LIMIT',
      0,
      MAX_INSTANCES,
    );
    if (instances.length === 0) {
      return [];
    }
    const docs = await this.redis.mget(instances.map((i) => this.connectionKey(i)));
    return docs
      .filter((d): d is string => d !== null)
      .map((d) => JSON.parse(d) as ConnectionReport);
  }

  /** Counts one delivery outcome; written to Redis within FLUSH_EVERY_MS. */
  countDelivery(outcome: DeliveryOutcomeName, atMs = Date.now()): void {
    const minute = atMs - (atMs % MINUTE_MS);
    let counts = this.pending.get(minute);
    if (!counts) {
      counts = emptyCounts();
      this.pending.set(minute, counts);
    }
    counts[outcome]++;
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush().catch(() => undefined);
    }, FLUSH_EVERY_MS);
    this.flushTimer.unref();
  }

  /** Writes the counts gathered so far; a failed write keeps them for the next one. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) {
      return;
    }
    const batch = [...this.pending.entries()];
    this.pending.clear();
    const multi = this.redis.multi();
    for (const [minute, counts] of batch) {
      for (const outcome of DELIVERY_OUTCOMES) {
        if (counts[outcome] > 0) {
          multi.hincrby(this.minuteKey(minute), outcome, counts[outcome]);
        }
      }
      multi.expire(this.minuteKey(minute), MINUTES_KEPT_S);
    }
    try {
      await multi.exec();
    } catch (error) {
      for (const [minute, counts] of batch) {
        const kept = this.pending.get(minute) ?? emptyCounts();
        for (const outcome of DELIVERY_OUTCOMES) {
          kept[outcome] += counts[outcome];
        }
        this.pending.set(minute, kept);
      }
      throw error;
    }
  }

  /** The last `minutes` whole minutes and the current one, oldest first. */
  async deliveriesPerMinute(nowMs: number, minutes = 60): Promise<MinuteCounts[]> {
    const current = nowMs - (nowMs % MINUTE_MS);
    const starts = Array.from(
      { length: minutes },
      (_, i) => current - (minutes - 1 - i) * MINUTE_MS,
    );
    const pipeline = this.redis.pipeline();
    starts.forEach((m) => pipeline.hgetall(this.minuteKey(m)));
    const replies = (await pipeline.exec()) ?? [];
    return starts.map((minute, i) => {
      const hash = (replies[i]?.[1] ?? {}) as Record<string, string>;
      const counts = emptyCounts();
      for (const outcome of DELIVERY_OUTCOMES) {
        counts[outcome] = Number(hash[outcome] ?? 0);
      }
      return { minute: new Date(minute).toISOString(), counts };
    });
  }

  async onModuleDestroy(): Promise<void> {
    clearTimeout(this.flushTimer);
    await this.flush().catch(() => undefined);
  }
}
