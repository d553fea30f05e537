import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { EventLog } from '../events/event-log';
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
  /**
   * The event's log entry, when known: the record holds it in the log while the delivery can
   * still be attempted. A record keeps it, so later writes may leave it out.
   */
  entryId?: string;
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
 * every attempt, manual retries included), the oldest dropped beyond the configured number. Each
 * keeps an excerpt of its response body; the latest attempt's whole (capped) body is field `rb`,
 * `rbn` its attempt number (suffixed `t` when the body was cut at the cap), replaced by the next
 * attempt. A pending or failing delivery holds its event's entry in the log (see
 * EventLog.holdsKeyOf); any other state releases it. An attempted delivery is not skipped.
 * KEYS: record, global index, subscription index, event holds, skipped index.
 * ARGV: ttl, createdAt, eventId, eventType, subscriptionId, deliveryId, trim min score ('' =
 * no trim), trim max count, entryId ('' = the record's), status, updatedAt, lastStatusCode,
 * lastError, nextAttemptAt, attempt, max attempt records, latest body ('' = none beyond the
 * excerpt), its truncation mark.
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
redis.call('HSET', KEYS[1], 'status', ARGV[10], 'updatedAt', ARGV[11], 'lastStatusCode', ARGV[12],
  'lastError', ARGV[13], 'nextAttemptAt', ARGV[14], 'a' .. n, ARGV[15])
local max = tonumber(ARGV[16])
if n > max then redis.call('HDEL', KEYS[1], 'a' .. (n - max)) end
if ARGV[17] ~= '' then
  redis.call('HSET', KEYS[1], 'rb', ARGV[17], 'rbn', n .. ARGV[18])
else
  redis.call('HDEL', KEYS[1], 'rb', 'rbn')
end
local entry = ARGV[9]
if entry ~= '' then
  redis.call('HSET', KEYS[1], 'entryId', entry)
else
  entry = redis.call('HGET', KEYS[1], 'entryId') or ''
end
if (ARGV[10] == 'pending' or ARGV[10] == 'failing') and entry ~= '' then
  redis.call('ZADD', KEYS[4], tonumber(string.match(entry, '^%d+')), ARGV[6])
else
  redis.call('ZREM', KEYS[4], ARGV[6])
end
redis.call('ZREM', KEYS[5], ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return n
`);

/**
 * Creates a pending record when absent, holding its event's entry in the log. Returns 1 when
 * created, else the existing status. KEYS and the first nine ARGV as RECORD_ATTEMPT.
 */
const CREATE = new LuaScript(`
if redis.call('HSETNX', KEYS[1], 'createdAt', ARGV[2]) == 0 then
  return redis.call('HGET', KEYS[1], 'status') or ''
end
redis.call('HSET', KEYS[1], 'eventId', ARGV[3], 'eventType', ARGV[4], 'subscriptionId', ARGV[5],
  'status', 'pending', 'updatedAt', ARGV[2], 'attemptCount', 0)
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[1], 'entryId', ARGV[9])
  redis.call('ZADD', KEYS[4], tonumber(string.match(ARGV[9], '^%d+')), ARGV[6])
end
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

/**
 * Sets the state of an existing record without an attempt (skipped, pending again), holding or
 * releasing its event's entry as RECORD_ATTEMPT does; a skipped one is indexed as such (trimmed
 * by age and count like the other indexes). With ARGV[6] = '1' only a delivery that can still be
 * attempted (pending, failing) is changed. Returns 1 when set, 0 without a record, 2 when the
 * delivery had ended already.
 * KEYS: record, event holds, skipped index. ARGV: status, updatedAt, reason, trim min score,
 * trim max count, only-if-open, delivery id.
 */
const SET_STATUS = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[7])
  return 0
end
local current = redis.call('HGET', KEYS[1], 'status')
if ARGV[6] == '1' and current ~= 'pending' and current ~= 'failing' then
  redis.call('ZREM', KEYS[2], ARGV[7])
  return 2
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updatedAt', ARGV[2], 'nextAttemptAt', '')
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'lastError', ARGV[3]) end
local entry = redis.call('HGET', KEYS[1], 'entryId')
if (ARGV[1] == 'pending' or ARGV[1] == 'failing') and entry then
  redis.call('ZADD', KEYS[2], tonumber(string.match(entry, '^%d+')), ARGV[7])
else
  redis.call('ZREM', KEYS[2], ARGV[7])
end
if ARGV[1] == 'skipped' then
  local created = tonumber(redis.call('HGET', KEYS[1], 'createdAt') or '') or tonumber(ARGV[2])
  redis.call('ZADD', KEYS[3], created, ARGV[7])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[4])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[5]) + 1))
else
  redis.call('ZREM', KEYS[3], ARGV[7])
end
return 1
`);

/** Index trimming is amortised: one write in this many also trims (and refreshes TTLs). */
const TRIM_EVERY = 256;
const SCAN_BATCH = 200;
const ATTEMPT_FIELD = /^a(\d+)$/;
/**
 * What an attempt keeps of its response body once a later attempt exists (characters): enough to
 * recognise an error page; the latest attempt keeps its whole (capped) body.
 */
export const EARLIER_ATTEMPT_BODY_CHARS = 256;

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
 * Layout: `<prefix>:delivery:<id>` (hash), `<prefix>:deliveries`,
 * `<prefix>:subscription:<id>:deliveries` and `<prefix>:deliveries:skipped` (sorted sets of ids by
 * creation time). The record scripts also keep the delivery's hold on its event in the log.
 */
@Injectable()
export class DeliveryRecordRepository {
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  private readonly maxCount: number;
  private readonly maxAttemptRecords: number;
  private readonly holdsKey: string;
  private writes = 0;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
  ) {
    this.prefix = config.redis.prefix;
    this.ttlSeconds = config.eventRetentionSeconds;
    this.maxCount = config.eventRetentionMaxCount;
    this.maxAttemptRecords = config.delivery.maxAttemptRecords;
    this.holdsKey = EventLog.holdsKeyOf(this.prefix);
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
    const body = attempt.responseBody ?? '';
    const cut = body.length > EARLIER_ATTEMPT_BODY_CHARS;
    const excerpt: DeliveryAttempt = cut
      ? {
          ...attempt,
          responseBody: body.slice(0, EARLIER_ATTEMPT_BODY_CHARS),
          responseTruncated: true,
        }
      : attempt;
    const result = await RECORD_ATTEMPT.run(this.redis, this.keysOf(identity), [
      ...this.identityArgs(identity),
      update.status,
      atMs,
      attempt.statusCode === undefined ? '' : attempt.statusCode,
      attempt.error ?? '',
      update.nextAttemptAtMs ?? '',
      encodeAttempt(excerpt, atMs, update.nextAttemptAtMs),
      this.maxAttemptRecords,
      cut ? body : '',
      attempt.responseTruncated ? 't' : '',
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
    return (await this.runSetStatus(id, status, atMs, reason ?? '', false)) === 1;
  }

  /**
   * Records as skipped, with `reason`, the deliveries of these ids that could still be attempted
   * (pending or failing): their event is gone from the log. Returns the ids it changed.
   */
  async skipOpen(ids: readonly string[], atMs: number, reason: string): Promise<string[]> {
    const results = await Promise.all(
      ids.map((id) => this.runSetStatus(id, DeliveryStatus.Skipped, atMs, reason, true)),
    );
    return ids.filter((_, i) => results[i] === 1);
  }

  /** Skipped deliveries within the retention window: what GET /v1/deliveries?status=skipped lists. */
  async countSkipped(): Promise<number> {
    return this.redis.zcard(this.skippedIndexKey());
  }

  private async runSetStatus(
    id: string,
    status: DeliveryStatus,
    atMs: number,
    reason: string,
    onlyOpen: boolean,
  ): Promise<unknown> {
    return SET_STATUS.run(
      this.redis,
      [this.recordKey(id), this.holdsKey, this.skippedIndexKey()],
      [status, atMs, reason, atMs - this.ttlSeconds * 1000, this.maxCount, onlyOpen ? '1' : '', id],
    );
  }

  async get(id: string, withAttempts = true): Promise<DeliveryRecord | undefined> {
    const hash = await this.redis.hgetall(this.recordKey(id));
    return fromHash(id, hash, withAttempts);
  }

  /** Newest first. Filters on status and type are applied while walking the index. */
  async list(query: DeliveryQuery): Promise<{ data: DeliveryRecord[]; nextCursor?: string }> {
    // Skipped deliveries have an index of their own: among many others they would be trimmed
    // from the general ones by count long before their window ends.
    const skippedOnly = query.status === DeliveryStatus.Skipped;
    const index = skippedOnly
      ? this.skippedIndexKey()
      : query.subscriptionId
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
          (query.subscriptionId && record.subscriptionId !== query.subscriptionId) ||
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
      this.holdsKey,
      this.skippedIndexKey(),
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
      identity.entryId ?? '',
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
  private skippedIndexKey(): string {
    return redisKey(this.prefix, 'deliveries', 'skipped');
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
    const latest = /^(\d+)(t?)$/.exec(hash.rbn ?? '');
    if (latest && hash.rb !== undefined) {
      const full = attempts.find((a) => a.n === Number(latest[1]));
      if (full) {
        full.attempt.responseBody = hash.rb;
        if (latest[2] === 't') {
          full.attempt.responseTruncated = true;
        } else {
          delete full.attempt.responseTruncated;
        }
      }
    }
    record.attempts = attempts.sort((a, b) => a.n - b.n).map((a) => a.attempt);
  }
  return record;
}

export { DeliveryStatus };
