import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { redisKey } from '../queue/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';
import { type DeliveryAttempt, type DeliveryRecord, DeliveryStatus } from './delivery.model';

/**
 * Creates the record only when absent, so a retried fan-out cannot reset a delivery that already
 * progressed, and keeps both indexes bounded in time and in count on every insert.
 * KEYS: record, global index, subscription index. ARGV: id, ttlSec, scoreMs, minScoreMs, maxCount, field/value...
 */
const CREATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], ARGV[2])
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], ARGV[3], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[4])
  redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -(tonumber(ARGV[5]) + 1))
  redis.call('EXPIRE', KEYS[i], ARGV[2])
end
return 1
`;

type WithCreateCommand = Redis & {
  otbCreateDelivery(
    record: string,
    globalIndex: string,
    subscriptionIndex: string,
    ...args: (string | number)[]
  ): Promise<number>;
};

export interface DeliveryQuery {
  subscriptionId?: string;
  status?: DeliveryStatus;
  eventType?: string;
  /** Only deliveries created at or after / before these epoch ms. */
  sinceMs?: number;
  untilMs?: number;
  limit: number;
  /** Opaque cursor from a previous page: the score and id to continue below. */
  cursor?: string;
}

const SCAN_BATCH = 200;

/**
 * Delivery records and their attempt log, in Redis under the queue prefix. Every key carries the
 * retention TTL and the indexes are trimmed by age and count, so memory stays bounded under load.
 */
@Injectable()
export class DeliveryRecordRepository {
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  private readonly maxCount: number;
  private readonly maxAttemptRecords: number;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
  ) {
    this.prefix = config.redis.prefix;
    this.ttlSeconds = config.eventRetentionSeconds;
    this.maxCount = config.eventRetentionMaxCount;
    this.maxAttemptRecords = config.delivery.maxAttemptRecords;
    if (!('otbCreateDelivery' in redis)) {
      redis.defineCommand('otbCreateDelivery', { numberOfKeys: 3, lua: CREATE_SCRIPT });
    }
  }

  /** Returns true when the record was created, false when it already existed. */
  async create(record: Omit<DeliveryRecord, 'attempts'>): Promise<boolean> {
    const scoreMs = Date.parse(record.createdAt);
    const fields = Object.entries(toHash(record)).flat();
    const created = await (this.redis as WithCreateCommand).otbCreateDelivery(
      this.recordKey(record.id),
      this.globalIndexKey(),
      this.subscriptionIndexKey(record.subscriptionId),
      record.id,
      this.ttlSeconds,
      scoreMs,
      scoreMs - this.ttlSeconds * 1000,
      this.maxCount,
      ...fields,
    );
    return created === 1;
  }

  /** Records one attempt and the delivery's new state in one round trip. */
  async recordAttempt(
    id: string,
    attempt: DeliveryAttempt,
    update: { status: DeliveryStatus; nextAttemptAt?: string },
  ): Promise<void> {
    const hash: Record<string, string> = {
      status: update.status,
      updatedAt: attempt.at,
      nextAttemptAt: update.nextAttemptAt ?? '',
      lastStatusCode: attempt.statusCode === undefined ? '' : String(attempt.statusCode),
      lastError: attempt.error ?? '',
    };
    const attemptsKey = this.attemptsKey(id);
    // Counted, not copied from `attempt.attempt`: that number restarts with a manual retry, and
    // attemptCount is every attempt this delivery has had.
    await this.redis
      .multi()
      .hset(this.recordKey(id), hash)
      .hincrby(this.recordKey(id), 'attemptCount', 1)
      .expire(this.recordKey(id), this.ttlSeconds)
      .rpush(attemptsKey, JSON.stringify(attempt))
      .ltrim(attemptsKey, -this.maxAttemptRecords, -1)
      .expire(attemptsKey, this.ttlSeconds)
      .exec();
  }

  async setStatus(id: string, status: DeliveryStatus, at: string, reason?: string): Promise<void> {
    await this.redis.hset(this.recordKey(id), {
      status,
      updatedAt: at,
      nextAttemptAt: '',
      ...(reason === undefined ? {} : { lastError: reason }),
    });
  }

  async get(id: string, withAttempts = true): Promise<DeliveryRecord | undefined> {
    const [hash, attempts] = await Promise.all([
      this.redis.hgetall(this.recordKey(id)),
      withAttempts ? this.redis.lrange(this.attemptsKey(id), 0, -1) : Promise.resolve([]),
    ]);
    if (!hash.id) {
      return undefined;
    }
    const record = fromHash(hash);
    if (withAttempts) {
      record.attempts = attempts.map((a) => JSON.parse(a) as DeliveryAttempt);
    }
    return record;
  }

  /** Newest first. Filters on status and type are applied while walking the index. */
  async list(query: DeliveryQuery): Promise<{ data: DeliveryRecord[]; nextCursor?: string }> {
    const index = query.subscriptionId
      ? this.subscriptionIndexKey(query.subscriptionId)
      : this.globalIndexKey();
    let maxScore = query.untilMs === undefined ? '+inf' : String(query.untilMs);
    let afterId: string | undefined;
    if (query.cursor) {
      const [score, id] = Buffer.from(query.cursor, 'base64url').toString().split('|');
      maxScore = score;
      afterId = id;
    }
    const minScore = query.sinceMs === undefined ? '-inf' : String(query.sinceMs);
    const data: DeliveryRecord[] = [];
    let skipUntilAfter = afterId !== undefined;
    let offset = 0;
    for (;;) {
      const page = await this.redis.zrevrangebyscore(
        index,
        maxScore,
        minScore,
        'WITHSCORES',
        'LIMIT',
        offset,
        SCAN_BATCH,
      );
      if (page.length === 0) {
        return { data };
      }
      offset += page.length / 2;
      const ids: string[] = [];
      const scores = new Map<string, string>();
      for (let i = 0; i < page.length; i += 2) {
        ids.push(page[i]);
        scores.set(page[i], page[i + 1]);
      }
      const pipeline = this.redis.pipeline();
      ids.forEach((id) => pipeline.hgetall(this.recordKey(id)));
      const hashes = (await pipeline.exec()) ?? [];
      for (let i = 0; i < ids.length; i++) {
        if (skipUntilAfter) {
          if (ids[i] === afterId) {
            skipUntilAfter = false;
          }
          continue;
        }
        const hash = hashes[i]?.[1] as Record<string, string> | undefined;
        if (!hash?.id) {
          continue;
        }
        const record = fromHash(hash);
        if (query.status && record.status !== query.status) {
          continue;
        }
        if (query.eventType && record.eventType !== query.eventType) {
          continue;
        }
        data.push(record);
        if (data.length === query.limit) {
          const cursor = Buffer.from(`${scores.get(ids[i])}|${ids[i]}`).toString('base64url');
          return { data, nextCursor: cursor };
        }
      }
    }
  }

  private recordKey(id: string): string {
    return redisKey(this.prefix, 'delivery', id);
  }
  private attemptsKey(id: string): string {
    return redisKey(this.prefix, 'delivery', id, 'attempts');
  }
  private globalIndexKey(): string {
    return redisKey(this.prefix, 'deliveries');
  }
  private subscriptionIndexKey(subscriptionId: string): string {
    return redisKey(this.prefix, 'subscription', subscriptionId, 'deliveries');
  }
}

function toHash(record: Omit<DeliveryRecord, 'attempts'>): Record<string, string> {
  const hash: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) {
    if (value !== undefined && value !== null) {
      hash[key] = String(value);
    }
  }
  return hash;
}

function fromHash(hash: Record<string, string>): DeliveryRecord {
  const record: DeliveryRecord = {
    id: hash.id,
    eventId: hash.eventId,
    eventType: hash.eventType,
    subscriptionId: hash.subscriptionId,
    status: hash.status as DeliveryStatus,
    createdAt: hash.createdAt,
    updatedAt: hash.updatedAt,
    attemptCount: Number(hash.attemptCount ?? 0),
  };
  if (hash.lastStatusCode) {
    record.lastStatusCode = Number(hash.lastStatusCode);
  }
  if (hash.lastError) {
    record.lastError = hash.lastError;
  }
  if (hash.nextAttemptAt) {
    record.nextAttemptAt = hash.nextAttemptAt;
  }
  return record;
}

export { DeliveryStatus };
