import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { InjectRedis } from '../redis/redis.module';
import { LuaScript } from '../redis/lua-script';
import { SubscriptionKeys } from './subscription-keys';
import type { Subscription } from './subscription.model';
import { SubscriptionsFeed } from './subscriptions.feed';

/** A `cursor` that this repository did not hand out (or that was tampered with). */
export class InvalidCursorError extends Error {
  readonly code = 'INVALID_CURSOR';
  constructor() {
    super('cursor is not one returned by a previous page');
    this.name = 'InvalidCursorError';
  }
}

/** An insert refused because `maxCount` subscriptions exist already. */
export class SubscriptionLimitError extends Error {
  readonly code = 'SUBSCRIPTION_LIMIT';
  constructor(readonly maxCount: number) {
    super(`${maxCount} subscriptions exist already`);
    this.name = 'SubscriptionLimitError';
  }
}

export interface SubscriptionPage {
  items: Subscription[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export interface SubscriptionsSnapshot {
  /** Changes with every write; compare to decide whether a cached snapshot is stale. */
  version: string;
  subscriptions: Subscription[];
}

type Health = Pick<Subscription, 'failingSince' | 'lastSuccessAt'>;

const MAX_UPDATE_ATTEMPTS = 20;

/** Insert, upsert, or compare-and-set; every write bumps the version and returns it. */
const WRITE = new LuaScript(`
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[4] == 'insert' and current then return -1 end
if ARGV[4] == 'insert' and ARGV[6] ~= '' and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then
  return -2
end
if ARGV[4] == 'replace' and current ~= ARGV[5] then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return redis.call('INCR', KEYS[3])
`);

/** Removes the document and its delivery health at once; returns the new version, 0 if absent. */
const DELETE = new LuaScript(`
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
if removed == 1 then return redis.call('INCR', KEYS[3]) end
return 0
`);

/**
 * Ordered by (createdAt ms, id): the index's score, then Redis's own member order for ties.
 * The cursor is the last (score, id) seen; if that member was deleted meanwhile the position is
 * recomputed from the score, so a page is never repeated nor skipped.
 */
const PAGE = new LuaScript(`
local limit = tonumber(ARGV[3])
local start = 0
if ARGV[2] ~= '' then
  local rank = redis.call('ZRANK', KEYS[1], ARGV[2])
  local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
  if rank and score == ARGV[1] then
    start = rank + 1
  else
    start = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[1])
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])) do
      if id <= ARGV[2] then start = start + 1 end
    end
  end
end
local ids = redis.call('ZRANGE', KEYS[1], start, start + limit)
if #ids == 0 then return {} end
local rows = {}
local docs = redis.call('HMGET', KEYS[2], unpack(ids))
local failing = redis.call('HMGET', KEYS[3], unpack(ids))
local success = redis.call('HMGET', KEYS[4], unpack(ids))
for i = 1, #ids do
  rows[#rows + 1] = { ids[i], docs[i] or '', failing[i] or '', success[i] or '' }
end
return rows
`);

function scoreOf(sub: Subscription): string {
  const ms = Date.parse(sub.createdAt);
  return String(Number.isFinite(ms) ? ms : 0);
}

function encodeCursor(score: string, id: string): string {
  return Buffer.from(JSON.stringify([score, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): [score: string, id: string] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      /^\d{1,16}$/.test(parsed[0]) &&
      typeof parsed[1] === 'string' &&
      parsed[1] !== ''
    ) {
      return [parsed[0], parsed[1]];
    }
  } catch {
    // reported below
  }
  throw new InvalidCursorError();
}

/** The stored document leaves out delivery health, which lives in hashes of its own. */
function serialize(sub: Subscription): string {
  const { failingSince: _f, lastSuccessAt: _l, ...doc } = sub;
  return JSON.stringify(doc);
}

function deserialize(doc: string, health: Health): Subscription {
  const sub = JSON.parse(doc) as Subscription;
  if (health.failingSince) {
    sub.failingSince = health.failingSince;
  }
  if (health.lastSuccessAt) {
    sub.lastSuccessAt = health.lastSuccessAt;
  }
  return sub;
}

function byCreatedThenId(a: Subscription, b: Subscription): number {
  const byTime = Number(scoreOf(a)) - Number(scoreOf(b));
  return byTime !== 0 ? byTime : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Subscription documents in Redis: one hash id → JSON, an index sorted by creation for paging,
 * and a version counter bumped on every configuration write and announced on the change feed,
 * so each process's registry knows when to reload. Reads join in delivery health (failingSince,
 * lastSuccessAt), which SubscriptionHealthRepository keeps in hashes of its own: workers update
 * it on every delivery, and those writes must neither rewrite the document nor make every
 * process reload its snapshot.
 */
@Injectable()
export class SubscriptionsRepository {
  private readonly keys: SubscriptionKeys;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
    private readonly feed: SubscriptionsFeed,
  ) {
    this.keys = new SubscriptionKeys(config.redis.prefix);
  }

  async get(id: string): Promise<Subscription | undefined> {
    const read = await this.read(id);
    return read?.subscription;
  }

  async list(options: { limit: number; cursor?: string }): Promise<SubscriptionPage> {
    const limit = Math.max(1, Math.floor(options.limit));
    const [score, lastId] = options.cursor ? decodeCursor(options.cursor) : ['', ''];
    const { byCreated, documents, failingSince, lastSuccess } = this.keys;
    const rows = (await PAGE.run(
      this.redis,
      [byCreated, documents, failingSince, lastSuccess],
      [score, lastId, limit],
    )) as [string, string, string, string][];
    const items = rows
      .filter(([, doc]) => doc !== '')
      .map(([, doc, failingSince, lastSuccessAt]) =>
        deserialize(doc, {
          failingSince: failingSince || undefined,
          lastSuccessAt: lastSuccessAt || undefined,
        }),
      );
    const hasMore = rows.length > limit;
    const page = hasMore ? items.slice(0, limit) : items;
    const lastSub = page.at(-1);
    return hasMore && lastSub
      ? { items: page, nextCursor: encodeCursor(scoreOf(lastSub), lastSub.id) }
      : { items: page };
  }

  async listAll(): Promise<Subscription[]> {
    return (await this.snapshot()).subscriptions;
  }

  /** Everything plus the version it corresponds to, read atomically. */
  async snapshot(): Promise<SubscriptionsSnapshot> {
    const results = await this.redis
      .multi()
      .get(this.keys.version)
      .hgetall(this.keys.documents)
      .hgetall(this.keys.failingSince)
      .hgetall(this.keys.lastSuccess)
      .exec();
    if (!results) {
      throw new Error('subscriptions snapshot transaction was aborted');
    }
    for (const [error] of results) {
      if (error) {
        throw error;
      }
    }
    const version = (results[0][1] as string | null) ?? '0';
    const docs = results[1][1] as Record<string, string>;
    const failing = results[2][1] as Record<string, string>;
    const success = results[3][1] as Record<string, string>;
    const subscriptions = Object.entries(docs)
      .map(([id, doc]) =>
        deserialize(doc, { failingSince: failing[id], lastSuccessAt: success[id] }),
      )
      .sort(byCreatedThenId);
    return { version, subscriptions };
  }

  async version(): Promise<string> {
    return (await this.redis.get(this.keys.version)) ?? '0';
  }

  /** Creates or overwrites. */
  async save(sub: Subscription): Promise<void> {
    await this.write(sub, 'upsert');
  }

  /**
   * Creates only when the id is free; false when it is taken. With `maxCount`, throws
   * SubscriptionLimitError when that many exist already (checked in the same script, so two
   * concurrent creates cannot both slip under the cap).
   */
  async insert(sub: Subscription, options: { maxCount?: number } = {}): Promise<boolean> {
    const result = await this.write(sub, 'insert', '', options.maxCount);
    if (result === -2) {
      throw new SubscriptionLimitError(options.maxCount ?? 0);
    }
    return result !== -1;
  }

  /**
   * Read-modify-write without lost updates: `mutate` gets the stored subscription and returns the
   * next one (the same object for "no change"); it is run again if another writer got in between.
   * Resolves to the stored result, or undefined when the id is unknown.
   */
  async update(
    id: string,
    mutate: (current: Subscription) => Subscription,
  ): Promise<Subscription | undefined> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const read = await this.read(id);
      if (!read) {
        return undefined;
      }
      const next = mutate(read.subscription);
      if (next === read.subscription) {
        return next;
      }
      if (next.id !== id) {
        throw new Error('a subscription update cannot change its id');
      }
      if ((await this.write(next, 'replace', read.doc)) !== -1) {
        return {
          ...next,
          failingSince: read.subscription.failingSince,
          lastSuccessAt: read.subscription.lastSuccessAt,
        };
      }
    }
    throw new Error(
      `subscription ${id} kept changing; gave up after ${MAX_UPDATE_ATTEMPTS} attempts`,
    );
  }

  /** Removes the document together with its delivery health and pause. */
  async delete(id: string): Promise<boolean> {
    const { documents, byCreated, version, failingSince, lastSuccess, pausedUntil } = this.keys;
    const result = Number(
      await DELETE.run(
        this.redis,
        [documents, byCreated, version, failingSince, lastSuccess, pausedUntil],
        [id],
      ),
    );
    if (result > 0) {
      await this.feed.publishChange(result);
    }
    return result > 0;
  }

  private async read(id: string): Promise<{ doc: string; subscription: Subscription } | undefined> {
    const results = await this.redis
      .multi()
      .hget(this.keys.documents, id)
      .hget(this.keys.failingSince, id)
      .hget(this.keys.lastSuccess, id)
      .exec();
    if (!results) {
      throw new Error('subscription read transaction was aborted');
    }
    for (const [error] of results) {
      if (error) {
        throw error;
      }
    }
    const [doc, failingSince, lastSuccessAt] = results.map(([, value]) => value as string | null);
    if (doc === null) {
      return undefined;
    }
    return {
      doc,
      subscription: deserialize(doc, {
        failingSince: failingSince ?? undefined,
        lastSuccessAt: lastSuccessAt ?? undefined,
      }),
    };
  }

  /** The new version, or -1 (the id is taken, or changed since it was read) or -2 (the cap). */
  private async write(
    sub: Subscription,
    mode: 'upsert' | 'insert' | 'replace',
    expected = '',
    maxCount?: number,
  ): Promise<number> {
    const result = Number(
      await WRITE.run(
        this.redis,
        [this.keys.documents, this.keys.byCreated, this.keys.version],
        [sub.id, serialize(sub), scoreOf(sub), mode, expected, maxCount ?? ''],
      ),
    );
    if (result > 0) {
      await this.feed.publishChange(result);
    }
    return result;
  }
}
