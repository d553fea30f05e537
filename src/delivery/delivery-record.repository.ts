import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { LuaScript } from '../redis/lua-script';
import { redisKey } from '../redis/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';
import { type DeliveryAttempt, type DeliveryRecord, DeliveryStatus } from './delivery.model';

/** What identifies a delivery; written once, when its record is created. */
export interface DeliveryIdentity {
  deliveryId: string;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  createdAtMs: number;
}

export interface AttemptUpdate {
  status: DeliveryStatus;
  nextAttemptAtMs?: number;
}

export interface DeliveryQuery {
  subscriptionId?: string;
  status?: DeliveryStatus;
  eventType?: string;
  /** Only deliveries created at or after / at or before these epoch ms. */
  sinceMs?: number;
  untilMs?: number;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/** A `cursor` this repository did not hand out. */
export class InvalidDeliveryCursorError extends Error {
  readonly code = 'INVALID_CURSOR';
  constructor() {
    super('cursor is not one returned by a previous page of GET /v1/deliveries');
    this.name = 'InvalidDeliveryCursorError';
  }
}

/**
 * Creates the record when absent (indexing it), then records one attempt and the new state: one
 * round trip for the fan-out's first attempt. Attempts are fields `a<n>` of the record (n counts
 * every attempt, manual retries included), the oldest dropped beyond the configured number.
 * KEYS: record, global index, subscription index.
 * ARGV: ttl, createdAt, eventId, eventType, subscriptionId, deliveryId, trim min score ('' =
 * no trim), trim max count, status, updatedAt, lastStatusCode, lastError, nextAttemptAt,
 * attempt, max attempt records.
 */
const RECORD_ATTEMPT = new LuaScript(`
local created = redis.call('HSETNX', KEYS[1], 'createdAt', ARGV[2]) == 1
if created then
  redis.call('HSET', KEYS[1], 'eventId', ARGV[3], 'eventType', ARGV[4], 'subscriptionId', ARGV[5])
  for i = 2, 3 do
    redis.call('ZADD', KEYS[i], ARGV[2], ARGV[6])
    if ARGV[7] ~= '' then
      redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[7])
      redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -(tonumber(ARGV[8]) + 1))
      redis.call('EXPIRE', KEYS[i], ARGV[1])
    end
  end
end
local n = redis.call('HINCRBY', KEYS[1], 'attemptCount', 1)
redis.call('HSET', KEYS[1], 'status', ARGV[9], 'updatedAt', ARGV[10], 'lastStatusCode', ARGV[11],
  'lastError', ARGV[12], 'nextAttemptAt', ARGV[13], 'a' .. n, ARGV[14])
local max = tonumber(ARGV[15])
if n > max then redis.call('HDEL', KEYS[1], 'a' .. (n - max)) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return n
`);

/**
 * Creates a pending record when absent. Returns 1 when created, else the existing status.
 * KEYS and the first ARGV as RECORD_ATTEMPT.
 */
const CREATE = new LuaScript(`
if redis.call('HSETNX', KEYS[1], 'createdAt', ARGV[2]) == 0 then
  return redis.call('HGET', KEYS[1], 'status') or ''
end
redis.call('HSET', KEYS[1], 'eventId', ARGV[3], 'eventType', ARGV[4], 'subscriptionId', ARGV[5],
  'status', 'pending', 'updatedAt', ARGV[2], 'attemptCount', 0)
redis.call('EXPIRE', KEYS[1], ARGV[1])
for i = 2, 3 do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[6])
  if ARGV[7] ~= '' then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[7])
    redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -(tonumber(ARGV[8]) + 1))
    redis.call('EXPIRE', KEYS[i], ARGV[1])
  end
end
return 1
`);

/** Sets the state of an existing record without an attempt (skipped, pending again). */
const SET_STATUS = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updatedAt', ARGV[2], 'nextAttemptAt', '')
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'lastError', ARGV[3]) end
return 1
`);

/** Index trimming is amortised: one write in this many also trims (and refreshes TTLs). */
const TRIM_EVERY = 256;
const SCAN_BATCH = 200;
const ATTEMPT_FIELD = /^a(\d+)$/;

/**
 * An attempt as a compact JSON array, so a successful attempt's field stays under Redis's
 * small-hash value limit: [attempt, atMs, durationMs, statusCode, error, body, truncated, nextMs].
 */
function encodeAttempt(a: DeliveryAttempt, atMs: number, nextMs: number | undefined): string {
  const row: unknown[] = [
    a.attempt,
    atMs,
    a.durationMs,
    a.statusCode ?? null,
    a.error ?? null,
    a.responseBody ?? null,
    a.responseTruncated ? 1 : 0,
    nextMs ?? null,
  ];
  while (row.length > 3 && (row[row.length - 1] === null || row[row.length - 1] === 0)) {
    row.pop();
  }
  return JSON.stringify(row);
}

function decodeAttempt(value: string): DeliveryAttempt | undefined {
  try {
    const row = JSON.parse(value) as unknown[];
    if (!Array.isArray(row) || typeof row[0] !== 'number' || typeof row[1] !== 'number') {
      return undefined;
    }
    const attempt: DeliveryAttempt = {
      attempt: row[0],
      at: new Date(row[1]).toISOString(),
      durationMs: typeof row[2] === 'number' ? row[2] : 0,
    };
    if (typeof row[3] === 'number') {
      attempt.statusCode = row[3];
    }
    if (typeof row[4] === 'string') {
      attempt.error = row[4];
    }
    if (typeof row[5] === 'string') {
      attempt.responseBody = row[5];
    }
    if (row[6] === 1) {
      attempt.responseTruncated = true;
    }
    if (typeof row[7] === 'number') {
      attempt.nextAttemptAt = new Date(row[7]).toISOString();
    }
    return attempt;
  } catch {
    return undefined;
  }
}

/** Times are kept as epoch ms (smaller in Redis); records written as ISO text still read. */
function isoOf(value: string | undefined): string | undefined {
  if (value === undefined || value === '') {
    return undefined;
  }
  if (/^\d+$/.test(value)) {
    return new Date(Number(value)).toISOString();
  }
  return value;
}

function encodeCursor(score: string, id: string): string {
  return Buffer.from(JSON.stringify([score, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): [score: number, id: string] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      /^\d{1,16}$/.test(parsed[0]) &&
      typeof parsed[1] === 'string' &&
      parsed[1] !== '' &&
      parsed[1].length <= 1024
    ) {
      return [Number(parsed[0]), parsed[1]];
    }
  } catch {
    // reported below
  }
  throw new InvalidDeliveryCursorError();
}

/**
 * Delivery records and their attempts, in Redis under the queue prefix. Every record carries the
 * retention TTL and the indexes are trimmed by age and count, so memory stays bounded under load.
 * Layout: `<prefix>:delivery:<id>` (hash), `<prefix>:deliveries` and
 * `<prefix>:subscription:<id>:deliveries` (sorted sets of ids by creation time).
 */
@Injectable()
export class DeliveryRecordRepository {
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  private readonly maxCount: number;
  private readonly maxAttemptRecords: number;
  private writes = 0;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
  ) {
    this.prefix = config.redis.prefix;
    this.ttlSeconds = config.eventRetentionSeconds;
    this.maxCount = config.eventRetentionMaxCount;
    this.maxAttemptRecords = config.delivery.maxAttemptRecords;
  }

  /**
   * Records one attempt and the delivery's new state, creating (and indexing) the record first if
   * it does not exist: one round trip. Returns the delivery's total attempt count.
   */
  async recordAttempt(
    identity: DeliveryIdentity,
    attempt: DeliveryAttempt,
    update: AttemptUpdate,
  ): Promise<number> {
    const atMs = Date.parse(attempt.at);
    const result = await RECORD_ATTEMPT.run(this.redis, this.keysOf(identity), [
      ...this.identityArgs(identity),
      update.status,
      atMs,
      attempt.statusCode === undefined ? '' : attempt.statusCode,
      attempt.error ?? '',
      update.nextAttemptAtMs ?? '',
      encodeAttempt(attempt, atMs, update.nextAttemptAtMs),
      this.maxAttemptRecords,
    ]);
    return Number(result);
  }

  /**
   * Creates a pending record. Returns `created`, or the status of the record that already exists
   * (the fan-out ran this event before).
   */
  async createPending(identity: DeliveryIdentity): Promise<'created' | DeliveryStatus> {
    const result = await CREATE.run(this.redis, this.keysOf(identity), this.identityArgs(identity));
    return result === 1 ? 'created' : (result as string as DeliveryStatus);
  }

  /** The status of each delivery, `undefined` where no record exists. */
  async statuses(ids: readonly string[]): Promise<(DeliveryStatus | undefined)[]> {
    if (ids.length === 0) {
      return [];
    }
    const pipeline = this.redis.pipeline();
    for (const id of ids) {
      pipeline.hget(this.recordKey(id), 'status');
    }
    const results = (await pipeline.exec()) ?? [];
    return ids.map((_, i) => {
      const [error, value] = results[i] ?? [null, null];
      if (error) {
        throw error;
      }
      return typeof value === 'string' && value !== '' ? (value as DeliveryStatus) : undefined;
    });
  }

  /** Sets the state of an existing record without an attempt; false when there is no record. */
  async setStatus(
    id: string,
    status: DeliveryStatus,
    atMs: number,
    reason?: string,
  ): Promise<boolean> {
    const result = await SET_STATUS.run(
      this.redis,
      [this.recordKey(id)],
      [status, atMs, reason ?? ''],
    );
    return result === 1;
  }

  async get(id: string, withAttempts = true): Promise<DeliveryRecord | undefined> {
    const hash = await this.redis.hgetall(this.recordKey(id));
    return fromHash(id, hash, withAttempts);
  }

  /** Newest first. Filters on status and type are applied while walking the index. */
  async list(query: DeliveryQuery): Promise<{ data: DeliveryRecord[]; nextCursor?: string }> {
    const index = query.subscriptionId
      ? this.subscriptionIndexKey(query.subscriptionId)
      : this.globalIndexKey();
    let maxScore = query.untilMs ?? Number.POSITIVE_INFINITY;
    let after: string | undefined;
    if (query.cursor !== undefined) {
      const [score, id] = decodeCursor(query.cursor);
      maxScore = Math.min(maxScore, score);
      after = id;
    }
    const min = query.sinceMs === undefined ? '-inf' : String(query.sinceMs);
    const max = Number.isFinite(maxScore) ? String(maxScore) : '+inf';
    const data: DeliveryRecord[] = [];
    for (let offset = 0; ;) {
      const page = await this.redis.zrevrangebyscore(
        index,
        max,
        min,
        'WITHSCORES',
        'LIMIT',
        offset,
        SCAN_BATCH,
      );
      if (page.length === 0) {
        return { data };
      }
      offset += page.length / 2;
      const rows: { id: string; score: string }[] = [];
      for (let i = 0; i < page.length; i += 2) {
        // Members sharing the cursor's score come in reverse order: skip up to the cursor's id.
        if (after !== undefined && Number(page[i + 1]) === maxScore && page[i] >= after) {
          continue;
        }
        rows.push({ id: page[i], score: page[i + 1] });
      }
      const pipeline = this.redis.pipeline();
      rows.forEach((r) => pipeline.hgetall(this.recordKey(r.id)));
      const hashes = (await pipeline.exec()) ?? [];
      for (let i = 0; i < rows.length; i++) {
        const record = fromHash(
          rows[i].id,
          (hashes[i]?.[1] ?? {}) as Record<string, string>,
          false,
        );
        if (
          !record ||
          (query.status && record.status !== query.status) ||
          (query.eventType && record.eventType !== query.eventType)
        ) {
          continue;
        }
        data.push(record);
        if (data.length === query.limit) {
          return { data, nextCursor: encodeCursor(rows[i].score, rows[i].id) };
        }
      }
    }
  }

  private keysOf(identity: DeliveryIdentity): string[] {
    return [
      this.recordKey(identity.deliveryId),
      this.globalIndexKey(),
      this.subscriptionIndexKey(identity.subscriptionId),
    ];
  }

  private identityArgs(identity: DeliveryIdentity): (string | number)[] {
    const trim = this.writes++ % TRIM_EVERY === 0;
    return [
      this.ttlSeconds,
      identity.createdAtMs,
      identity.eventId,
      identity.eventType,
      identity.subscriptionId,
      identity.deliveryId,
      trim ? identity.createdAtMs - this.ttlSeconds * 1000 : '',
      this.maxCount,
    ];
  }

  private recordKey(id: string): string {
    return redisKey(this.prefix, 'delivery', id);
  }
  private globalIndexKey(): string {
    return redisKey(this.prefix, 'deliveries');
  }
  private subscriptionIndexKey(subscriptionId: string): string {
    return redisKey(this.prefix, 'subscription', subscriptionId, 'deliveries');
  }
}

function fromHash(
  id: string,
  hash: Record<string, string>,
  withAttempts: boolean,
): DeliveryRecord | undefined {
  if (!hash.eventId) {
    return undefined;
  }
  const record: DeliveryRecord = {
    id,
    eventId: hash.eventId,
    eventType: hash.eventType,
    subscriptionId: hash.subscriptionId,
    status: hash.status as DeliveryStatus,
    createdAt: isoOf(hash.createdAt) ?? '',
    updatedAt: isoOf(hash.updatedAt) ?? isoOf(hash.createdAt) ?? '',
    attemptCount: Number(hash.attemptCount ?? 0),
  };
  if (hash.lastStatusCode) {
    record.lastStatusCode = Number(hash.lastStatusCode);
  }
  if (hash.lastError) {
    record.lastError = hash.lastError;
  }
  const next = isoOf(hash.nextAttemptAt);
  if (next) {
    record.nextAttemptAt = next;
  }
  if (withAttempts) {
    const attempts: { n: number; attempt: DeliveryAttempt }[] = [];
    for (const [field, value] of Object.entries(hash)) {
      const match = ATTEMPT_FIELD.exec(field);
      const attempt = match ? decodeAttempt(value) : undefined;
      if (match && attempt) {
        attempts.push({ n: Number(match[1]), attempt });
      }
    }
    record.attempts = attempts.sort((a, b) => a.n - b.n).map((a) => a.attempt);
  }
  return record;
}

export { DeliveryStatus };
