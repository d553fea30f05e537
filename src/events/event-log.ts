import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { binary } from '../redis/binary-commands';
import { LuaScript } from '../redis/lua-script';
import { redisKey } from '../redis/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';
import { BODY_FIELD_V1, decodeBody, encodeBody } from './event-body.codec';

/** One event to append: its id (the dedup key) and the exact webhook body. */
export interface EventToAppend {
  id: string;
  body: string;
  /** A synthetic test event names the one subscription it is for. */
  targetSubscriptionId?: string;
  /**
   * Other identities of the same happening (e.g. `call:<uuid>:<state>`), so that the event is a
   * duplicate when any of them was seen, whatever its id: a state read over the WSS and the same
   * state recovered over REST later are one event.
   */
  aliases?: readonly string[];
  /** What orders it among other events (see ordering-key.ts); gets a per-key sequence number. */
  orderingKey?: string;
}

/** One event as the log holds it. */
export interface LoggedEvent {
  /** The log entry id (`<ms>-<seq>`): the order of ingestion, and the position a reader resumes from. */
  entryId: string;
  body: string;
  targetSubscriptionId?: string;
  /** How many times the fan-out group has handed this entry out (1 for a fresh read). */
  deliveries?: number;
  /** Set when the stored body cannot be read (corrupt, or an unknown format); body is then ''. */
  unreadable?: string;
  /** The event's ordering key and its place in that key's sequence (1, 2, ...). */
  ordering?: { key: string; seq: number };
}

export interface EventLogStats {
  /** Entries held (retained, queued and in flight). */
  length: number;
  /** Entries not yet handed to any fan-out consumer; undefined when Redis cannot say. */
  backlog?: number;
  /** Entries handed out and not yet acknowledged. */
  pending: number;
  retention: EventLogRetention;
}

export interface EventLogRetention {
  /** Bytes of the entries' fields and values (Redis's own overhead per entry comes on top). */
  bytes: number;
  /** EVENT_RETENTION_MAX_BYTES. */
  budgetBytes: number;
  /** Deliveries (pending, or failing with a retry scheduled) holding their event in the log. */
  heldDeliveries: number;
  /** Set while held events alone exceed the budget, and for a while after it last happened. */
  overBudget?: { since: string; last: string; evicted: number };
}

/** A delivery whose hold on its event was released by trimming, not by the delivery ending. */
export interface ReleasedHold {
  deliveryId: string;
  /** `over-budget`: its event was evicted; `gone`: its event had left the log already. */
  cause: 'over-budget' | 'gone';
}

export interface TrimResult {
  /** Entries removed, evicted ones included. */
  removed: number;
  /** Held entries removed because held entries alone exceeded the byte budget. */
  evicted: number;
  released: ReleasedHold[];
  bytes: number;
  budgetBytes: number;
  /** Still over the budget once every finished entry was removed. */
  overBudget: boolean;
}

/** The consumer group the fan-out reads with. */
export const FAN_OUT_GROUP = 'fan-out';

/**
 * Dedup and append in one atomic step, for a whole batch. KEYS: the log, its byte counter, then
 * per event its dedup key, its alias keys, and its ordering sequence key when it has an ordering
 * key. ARGV: ttl
 * seconds, the body field name, then per event: body, target, number of aliases, ordering key
 * ('' for none). An event is a duplicate when its id or any alias is already taken (within the
 * dedup window, or earlier in this batch). A keyed event gets the next number of its key's
 * sequence (fields `k`, `q`): the order deliveries of that key are sent in. The byte counter grows
 * by the entries' size (see ENTRY_SIZE). Returns per event the new entry id, or false for a
 * duplicate.
 */
const APPEND = new LuaScript(`
local ttl = ARGV[1]
local field = ARGV[2]
local out = {}
local k = 3
local a = 3
local n = 0
local bytes = 0
while k <= #KEYS do
  n = n + 1
  local body = ARGV[a]
  local target = ARGV[a + 1]
  local aliases = tonumber(ARGV[a + 2])
  local order = ARGV[a + 3]
  a = a + 4
  local last = k + aliases
  local taken = false
  for j = k, last do
    if redis.call('EXISTS', KEYS[j]) == 1 then taken = true end
  end
  local seqKey = nil
  if order ~= '' then seqKey = KEYS[last + 1] end
  if taken then
    out[n] = false
  else
    local entry = {field, body}
    if target ~= '' then
      table.insert(entry, 's')
      table.insert(entry, target)
    end
    if seqKey then
      local seq = redis.call('INCR', seqKey)
      redis.call('EXPIRE', seqKey, ttl)
      table.insert(entry, 'k')
      table.insert(entry, order)
      table.insert(entry, 'q')
      table.insert(entry, seq)
    end
    local id = redis.call('XADD', KEYS[1], '*', unpack(entry))
    for _, v in ipairs(entry) do bytes = bytes + #tostring(v) end
    for j = k, last do
      redis.call('SET', KEYS[j], id, 'EX', ttl)
    end
    out[n] = id
  end
  k = last + 1
  if seqKey then k = k + 1 end
end
if bytes > 0 then redis.call('INCRBY', KEYS[2], bytes) end
return out
`);

/** Reads an event by its id: the dedup key names the entry. */
const GET = new LuaScript(`
local id = redis.call('GET', KEYS[2])
if not id then return false end
local entries = redis.call('XRANGE', KEYS[1], id, id)
if #entries == 0 then return false end
return entries[1]
`);

/**
 * One pass of trimming, over at most ARGV[5] entries from the oldest (or from ARGV[7], where the
 * previous pass stopped). KEYS: the log, its byte counter, the holds. ARGV: the age threshold
 * (epoch ms: older entries are out of the window), the first entry the fan-out has not finished
 * ('<ms>-<seq>'), the count cap, the byte budget, the pass size, the mode, the cursor.
 *
 * An entry of a millisecond some delivery holds (see EventLog.holdsKey) is held; others are
 * finished. Mode `finished` removes finished entries older than the window, and the oldest other
 * finished ones while the log is over its count cap or byte budget. Mode `evict` (only once no
 * finished entry is left to remove) removes the oldest entries, held or not, whole milliseconds
 * at a time, while the log is over its byte budget, and releases their holds. Either mode also
 * releases holds whose entry is gone (older than the oldest entry).
 * Returns {removed, bytes freed, cursor ('' when done), length, bytes, released delivery ids...}.
 */
const TRIM = new LuaScript(`
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function before(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local function size(fields)
  local n = 0
  for _, v in ipairs(fields) do n = n + #v end
  return n
end
local ageMs = tonumber(ARGV[1])
local safe = ARGV[2]
local maxCount = tonumber(ARGV[3])
local maxBytes = tonumber(ARGV[4])
local limit = tonumber(ARGV[5])
local evict = ARGV[6] == 'evict'
local cursor = ARGV[7]
local len = redis.call('XLEN', KEYS[1])
local bytes = tonumber(redis.call('GET', KEYS[2]) or '0')
if len == 0 or bytes < 0 then bytes = 0 end
local removed, freed, scanned = 0, 0, 0
local done = false
local lastMs = nil
while not done and scanned < limit do
  local batch = redis.call('XRANGE', KEYS[1], cursor, '+', 'COUNT', math.min(100, limit - scanned))
  if #batch == 0 then done = true end
  for _, e in ipairs(batch) do
    local id = e[1]
    local ms, seq = parse(id)
    if not before(id, safe) then done = true break end
    if evict then
      if bytes <= maxBytes and ms ~= lastMs then done = true break end
    elseif len <= maxCount and bytes <= maxBytes and ms >= ageMs then
      done = true break
    end
    scanned = scanned + 1
    cursor = ms .. '-' .. (seq + 1)
    local held = false
    if not evict then
      held = #redis.call('ZRANGEBYSCORE', KEYS[3], ms, ms, 'LIMIT', 0, 1) > 0
    end
    if not held then
      local n = size(e[2])
      redis.call('XDEL', KEYS[1], id)
      len = len - 1
      bytes = bytes - n
      removed = removed + 1
      freed = freed + n
      lastMs = ms
    end
  end
end
if len == 0 or bytes < 0 then bytes = 0 end
redis.call('SET', KEYS[2], bytes)
local out = {removed, freed, done and '' or cursor, len, bytes}
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local below = '+inf'
if #oldest > 0 then
  local oms = parse(oldest[1][1])
  below = '(' .. oms
end
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', below, 'LIMIT', 0, 1000)
if #gone > 0 then
  redis.call('ZREM', KEYS[3], unpack(gone))
  for _, d in ipairs(gone) do table.insert(out, d) end
end
return out
`);

/**
 * Entries per TRIM pass (bounds how long one script holds Redis), passes of the rolling sweep
 * per trim(), and passes of a whole sweep when over the byte budget.
 */
const TRIM_PASS_ENTRIES = 2_000;
const ROLLING_PASSES = 5;
const FULL_PASSES = 100;
/** How long readiness and /v1/status go on saying the budget was exceeded after it last was. */
const OVER_BUDGET_MEMORY_MS = 15 * 60_000;

/** Stream entries are read binary-safe: bodies are stored compressed. */
type StreamEntry = [id: Buffer, fields: Buffer[]];

/** `<ms>-<seq>` as two numbers; ids from Redis always have both parts. */
export function parseEntryId(id: string): [ms: number, seq: number] {
  const dash = id.indexOf('-');
  return dash < 0 ? [Number(id), 0] : [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

export function compareEntryIds(a: string, b: string): number {
  const [am, as] = parseEntryId(a);
  const [bm, bs] = parseEntryId(b);
  return am !== bm ? am - bm : as - bs;
}

/** The smallest id greater than `id`. */
export function nextEntryId(id: string): string {
  const [ms, seq] = parseEntryId(id);
  return `${ms}-${seq + 1}`;
}

/** Every entry becomes a LoggedEvent; one whose body cannot be read says so in `unreadable`. */
function toLogged(entry: StreamEntry, deliveries?: number): LoggedEvent {
  const entryId = entry[0].toString();
  const fields = entry[1];
  let body: string | undefined;
  let target: string | undefined;
  let unreadable: string | undefined;
  let orderKey: string | undefined;
  let orderSeq: number | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i].toString();
    if (name === 's') {
      target = fields[i + 1].toString();
    } else if (name === 'k') {
      orderKey = fields[i + 1].toString();
    } else if (name === 'q') {
      orderSeq = Number(fields[i + 1].toString());
    } else if (body === undefined) {
      try {
        body = decodeBody(name, fields[i + 1]);
      } catch (error) {
        unreadable = error instanceof Error ? error.message : String(error);
      }
    }
  }
  if (body === undefined && unreadable === undefined) {
    unreadable = 'the entry has no body field this build knows';
  }
  const logged: LoggedEvent = { entryId, body: body ?? '' };
  if (unreadable !== undefined) {
    logged.unreadable = unreadable;
  }
  if (orderKey !== undefined && orderSeq !== undefined && Number.isSafeInteger(orderSeq)) {
    logged.ordering = { key: orderKey, seq: orderSeq };
  }
  if (target !== undefined) {
    logged.targetSubscriptionId = target;
  }
  if (deliveries !== undefined) {
    logged.deliveries = deliveries;
  }
  return logged;
}

function isGroupMissing(error: unknown): boolean {
  return error instanceof Error && /NOGROUP|no such key/i.test(error.message);
}

/**
 * The event log: every ingested event once, in ingestion order, in a Redis stream, with a dedup
 * key per event id that names its entry. It is the queue the fan-out consumes (a consumer group,
 * so several worker processes share it and a crashed one's entries are claimed by the others),
 * the store that retries, replays and `GET /v1/events/:id` read, and a resumable feed.
 *
 * This class is the only code that knows that layout:
 *   <prefix>:event-log            the stream; fields `z1` (the webhook body, compressed: see
 *                                 event-body.codec.ts), `s` (the target of a test event), and
 *                                 `k`/`q` (ordering key and its sequence number)
 *   <prefix>:event:<event id>     the entry id, expiring with the retention window (the dedup key)
 *   <prefix>:event-alias:<alias>  the same, for another identity of the event (see `aliases`)
 *   <prefix>:order:<key>:seq      the last sequence number given to an event of an ordering key
 *   <prefix>:event-log:bytes      the bytes of the entries' fields and values (the byte budget's
 *                                 measure), kept by the append and trim scripts
 *   <prefix>:event-holds          sorted set: a delivery id per pending or failing delivery,
 *                                 scored by its entry's time (ms); written by the delivery
 *                                 record scripts with the record, in the same round trip
 *   <prefix>:event-log:over-budget  when held entries alone last exceeded the byte budget
 * Trimming keeps entries for the retention window and under the count cap and byte budget, and
 * never removes an entry the fan-out has not finished with or a delivery holds, except, once
 * held entries alone exceed the byte budget, the oldest held ones (their deliveries are then
 * recorded as skipped by the caller).
 */
@Injectable()
export class EventLog {
  readonly streamKey: string;
  /** Where deliveries hold their entries: see holdsKeyOf. */
  readonly holdsKey: string;
  private readonly bytesKey: string;
  private readonly overBudgetKey: string;
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  private readonly maxCount: number;
  private readonly maxBytes: number;
  /** Where the rolling sweep of finished entries goes on (see trim). */
  private sweepCursor = '-';

  /**
   * The holds of a prefix: a sorted set of delivery ids scored by their entry's time (the ms part
   * of its id). A delivery is in it while it can still be attempted; trimming keeps the entries
   * of every millisecond it names.
   */
  static holdsKeyOf(prefix: string): string {
    return redisKey(prefix, 'event-holds');
  }

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
  ) {
    this.prefix = config.redis.prefix;
    this.streamKey = redisKey(this.prefix, 'event-log');
    this.holdsKey = EventLog.holdsKeyOf(this.prefix);
    this.bytesKey = redisKey(this.prefix, 'event-log', 'bytes');
    this.overBudgetKey = redisKey(this.prefix, 'event-log', 'over-budget');
    this.ttlSeconds = config.eventRetentionSeconds;
    this.maxCount = config.eventRetentionMaxCount;
    this.maxBytes = config.eventRetentionMaxBytes;
  }

  private eventKey(eventId: string): string {
    return redisKey(this.prefix, 'event', eventId);
  }

  private aliasKey(alias: string): string {
    return redisKey(this.prefix, 'event-alias', alias);
  }

  private orderSeqKey(orderingKey: string): string {
    return redisKey(this.prefix, 'order', orderingKey, 'seq');
  }

  /**
   * Appends the events not already in the log, atomically with their dedup keys, in one round
   * trip. Returns, per input, the new entry id or `undefined` for a duplicate.
   */
  async append(events: readonly EventToAppend[]): Promise<(string | undefined)[]> {
    if (events.length === 0) {
      return [];
    }
    const keys = [this.streamKey, this.bytesKey];
    const args: (string | number | Buffer)[] = [this.ttlSeconds, BODY_FIELD_V1];
    for (const event of events) {
      const aliases = event.aliases ?? [];
      keys.push(this.eventKey(event.id), ...aliases.map((alias) => this.aliasKey(alias)));
      if (event.orderingKey !== undefined) {
        keys.push(this.orderSeqKey(event.orderingKey));
      }
      args.push(
        encodeBody(event.body),
        event.targetSubscriptionId ?? '',
        aliases.length,
        event.orderingKey ?? '',
      );
    }
    const result = (await APPEND.run(this.redis, keys, args)) as (string | null)[];
    return events.map((_, i) => result[i] ?? undefined);
  }

  /** The event with this id, while retained. */
  async get(eventId: string): Promise<LoggedEvent | undefined> {
    const entry = (await GET.runBuffer(
      this.redis,
      [this.streamKey, this.eventKey(eventId)],
      [],
    )) as StreamEntry | null;
    return entry ? toLogged(entry) : undefined;
  }

  /** The entry with this id, while retained. */
  async getEntry(entryId: string): Promise<LoggedEvent | undefined> {
    const entries = (await this.redis.xrangeBuffer(
      this.streamKey,
      entryId,
      entryId,
    )) as unknown as StreamEntry[];
    return entries.length === 0 ? undefined : toLogged(entries[0]);
  }

  /** The entry id of an event, while its dedup key lives. */
  async entryIdOf(eventId: string): Promise<string | undefined> {
    return (await this.redis.get(this.eventKey(eventId))) ?? undefined;
  }

  /**
   * Up to `count` entries after `afterEntryId` (exclusive; `undefined` starts at the oldest)
   * whose entry time is at most `untilMs`: for replays and for resuming a feed.
   */
  async readAfter(
    afterEntryId: string | undefined,
    count: number,
    untilMs?: number,
  ): Promise<LoggedEvent[]> {
    const start = afterEntryId === undefined ? '-' : `(${afterEntryId}`;
    const end = untilMs === undefined ? '+' : String(Math.floor(untilMs));
    const entries = (await this.redis.xrangeBuffer(
      this.streamKey,
      start,
      end,
      'COUNT',
      count,
    )) as unknown as StreamEntry[];
    return entries.map((e) => toLogged(e));
  }

  /** The id of the newest entry, or `0-0` when the log is empty: where a live reader starts. */
  async lastEntryId(): Promise<string> {
    const newest = await this.redis.xrevrange(this.streamKey, '+', '-', 'COUNT', 1);
    return newest[0]?.[0] ?? '0-0';
  }

  /**
   * Entries after `afterEntryId`, blocking up to `blockMs` on `connection` (the reader's own) for
   * new ones: a live feed independent of the fan-out group, for any number of readers.
   */
  async readLive(
    connection: Redis,
    afterEntryId: string,
    count: number,
    blockMs: number,
  ): Promise<LoggedEvent[]> {
    const reply = await connection.xreadBuffer(
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      this.streamKey,
      afterEntryId,
    );
    if (!reply || reply.length === 0) {
      return [];
    }
    return reply[0][1].map((entry) => toLogged(entry));
  }

  /** Creates the fan-out group (reading from the start) if it does not exist. */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.streamKey, FAN_OUT_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) {
        throw error;
      }
    }
  }

  /**
   * Hands up to `count` new entries to `consumer`, blocking up to `blockMs` on `connection` (a
   * connection of the caller's own: a blocking read holds it). Recreates the group if Redis lost
   * it (a flushed or restarted Redis without persistence).
   */
  async readNew(
    connection: Redis,
    consumer: string,
    count: number,
    blockMs: number,
  ): Promise<LoggedEvent[]> {
    let reply: [Buffer, StreamEntry[]][] | null;
    try {
      reply = (await binary(connection).xreadgroupBuffer(
        'GROUP',
        FAN_OUT_GROUP,
        consumer,
        'COUNT',
        count,
        'BLOCK',
        blockMs,
        'STREAMS',
        this.streamKey,
        '>',
      )) as [Buffer, StreamEntry[]][] | null;
    } catch (error) {
      if (isGroupMissing(error)) {
        await this.ensureGroup();
        return [];
      }
      throw error;
    }
    if (!reply || reply.length === 0) {
      return [];
    }
    return reply[0][1].map((entry) => toLogged(entry, 1));
  }

  /** Marks entries as done for the fan-out group. */
  async ack(entryIds: readonly string[]): Promise<void> {
    if (entryIds.length > 0) {
      await this.redis.xack(this.streamKey, FAN_OUT_GROUP, ...entryIds);
    }
  }

  /**
   * Resets the idle time of entries this consumer is still working on, so no other consumer
   * claims them as abandoned (the lock renewal of a queue).
   */
  async touch(consumer: string, entryIds: readonly string[]): Promise<void> {
    if (entryIds.length > 0) {
      await this.redis.xclaim(this.streamKey, FAN_OUT_GROUP, consumer, 0, ...entryIds, 'JUSTID');
    }
  }

  /**
   * Takes over entries another consumer was handed and has not acknowledged for `minIdleMs` (it
   * crashed, or lost Redis for that long). Entries handed out `maxDeliveries` times already are
   * returned in `exhausted` (still pending) instead, for the caller to give up on them.
   */
  async claimAbandoned(
    consumer: string,
    minIdleMs: number,
    count: number,
    maxDeliveries: number,
  ): Promise<{ claimed: LoggedEvent[]; exhausted: string[] }> {
    const pending = (await this.redis.xpending(
      this.streamKey,
      FAN_OUT_GROUP,
      'IDLE',
      minIdleMs,
      '-',
      '+',
      count,
    )) as [id: string, consumer: string, idleMs: number, deliveries: number][];
    const exhausted: string[] = [];
    const toClaim = new Map<string, number>();
    for (const [id, , , deliveries] of pending) {
      if (deliveries >= maxDeliveries) {
        exhausted.push(id);
      } else {
        toClaim.set(id, deliveries + 1);
      }
    }
    if (toClaim.size === 0) {
      return { claimed: [], exhausted };
    }
    const entries = (await binary(this.redis).xclaimBuffer(
      this.streamKey,
      FAN_OUT_GROUP,
      consumer,
      minIdleMs,
      ...toClaim.keys(),
    )) as (StreamEntry | null)[];
    const claimed: LoggedEvent[] = [];
    const gone: string[] = [];
    const returned = new Set<string>();
    for (const entry of entries) {
      if (!entry) {
        continue;
      }
      const id = entry[0].toString();
      returned.add(id);
      claimed.push(toLogged(entry, toClaim.get(id)));
    }
    // Pending entries trimmed away (or claimed by someone else meanwhile) come back empty.
    for (const id of toClaim.keys()) {
      if (!returned.has(id)) {
        gone.push(id);
      }
    }
    await this.ackIfStillPending(gone, minIdleMs);
    return { claimed, exhausted };
  }

  /** Acknowledges entries whose data is gone; ones another consumer just claimed are left alone. */
  private async ackIfStillPending(entryIds: string[], minIdleMs: number): Promise<void> {
    if (entryIds.length === 0) {
      return;
    }
    const still = (await this.redis.xpending(
      this.streamKey,
      FAN_OUT_GROUP,
      'IDLE',
      minIdleMs,
      '-',
      '+',
      1_000,
    )) as [string, string, number, number][];
    const idle = new Set(still.map(([id]) => id));
    await this.ack(entryIds.filter((id) => idle.has(id)));
  }

  /** Consumers with nothing pending that have been idle longer than `idleMs` (stopped processes). */
  async removeIdleConsumers(idleMs: number): Promise<number> {
    let consumers: unknown[];
    try {
      consumers = (await this.redis.xinfo('CONSUMERS', this.streamKey, FAN_OUT_GROUP)) as unknown[];
    } catch (error) {
      if (isGroupMissing(error)) {
        return 0;
      }
      throw error;
    }
    let removed = 0;
    for (const raw of consumers) {
      const info = fieldMap(raw);
      if (Number(info.pending) === 0 && Number(info.idle) > idleMs) {
        await this.redis.xgroup('DELCONSUMER', this.streamKey, FAN_OUT_GROUP, String(info.name));
        removed++;
      }
    }
    return removed;
  }

  async stats(): Promise<EventLogStats> {
    const [length, retention, group] = await Promise.all([
      this.redis.xlen(this.streamKey),
      this.retention(),
      this.groupInfo(),
    ]);
    if (!group) {
      return { length, backlog: length, pending: 0, retention };
    }
    return { length, backlog: group.lag, pending: group.pending, retention };
  }

  /** What the log holds against its byte budget, and whether the budget was exceeded lately. */
  async retention(): Promise<EventLogRetention> {
    const [bytes, held, over] = await Promise.all([
      this.redis.get(this.bytesKey),
      this.redis.zcard(this.holdsKey),
      this.redis.hgetall(this.overBudgetKey),
    ]);
    const retention: EventLogRetention = {
      bytes: Math.max(0, Number(bytes ?? 0) || 0),
      budgetBytes: this.maxBytes,
      heldDeliveries: held,
    };
    if (over.since !== undefined) {
      retention.overBudget = {
        since: new Date(Number(over.since)).toISOString(),
        last: new Date(Number(over.last ?? over.since)).toISOString(),
        evicted: Number(over.evicted ?? 0),
      };
    }
    return retention;
  }

  /**
   * Removes what the log need not keep, finished entries first: those older than the retention
   * window, then the oldest finished ones while the log is over its count cap or byte budget.
   * Entries the fan-out has not finished, and entries some delivery holds (pending, or failing
   * with a retry scheduled), stay however old they are and whatever the count cap says. Only
   * when held entries alone exceed the byte budget are the oldest of them evicted; the holds
   * released with them (and any whose entry is gone) are returned, for their deliveries to be
   * recorded as skipped.
   */
  async trim(nowMs: number): Promise<TrimResult> {
    const result: TrimResult = {
      removed: 0,
      evicted: 0,
      released: [],
      bytes: 0,
      budgetBytes: this.maxBytes,
      overBudget: false,
    };
    const group = await this.groupInfo();
    if (!group) {
      return result;
    }
    // Below `safe`, every entry has been read and acknowledged.
    const safe = group.oldestPending ?? nextEntryId(group.lastDelivered);
    const ageMs = Math.max(0, nowMs - this.ttlSeconds * 1000);
    const pass = async (mode: 'finished' | 'evict', cursor: string): Promise<string> => {
      const reply = (await TRIM.run(
        this.redis,
        [this.streamKey, this.bytesKey, this.holdsKey],
        [ageMs, safe, this.maxCount, this.maxBytes, TRIM_PASS_ENTRIES, mode, cursor],
      )) as [number, number, string, number, number, ...string[]];
      const [removed, , next, , bytes, ...released] = reply;
      result.removed += removed;
      result.bytes = bytes;
      if (mode === 'evict') {
        result.evicted += removed;
      }
      for (const deliveryId of released) {
        result.released.push({ deliveryId, cause: mode === 'evict' ? 'over-budget' : 'gone' });
      }
      return next;
    };
    // Held entries beyond the count cap (an endpoint down for long) are passed over by every
    // trim: a few passes per call, going on where the last call stopped, bound the work, and
    // a finished entry among them is removed when the sweep comes round again.
    let cursor = this.sweepCursor;
    for (let i = 0; i < ROLLING_PASSES && cursor !== ''; i++) {
      cursor = await pass('finished', cursor);
    }
    this.sweepCursor = cursor === '' ? '-' : cursor;
    if (result.bytes <= this.maxBytes) {
      return result;
    }
    // Over the byte budget: every finished entry goes first (a whole sweep), then, if that is
    // not enough, the oldest held ones.
    result.overBudget = true;
    cursor = '-';
    for (let i = 0; i < FULL_PASSES && cursor !== ''; i++) {
      cursor = await pass('finished', cursor);
    }
    this.sweepCursor = '-';
    if (result.bytes <= this.maxBytes) {
      result.overBudget = false;
      return result;
    }
    cursor = '-';
    for (let i = 0; i < FULL_PASSES && cursor !== '' && result.bytes > this.maxBytes; i++) {
      cursor = await pass('evict', cursor);
    }
    return result;
  }

  /** The delivery ids holding the oldest entries, oldest first (for an audit of stale holds). */
  async oldestHolds(count: number): Promise<string[]> {
    return this.redis.zrange(this.holdsKey, 0, count - 1);
  }

  /** Drops holds whose delivery can no longer be attempted (its record ended or expired). */
  async releaseHolds(deliveryIds: readonly string[]): Promise<void> {
    if (deliveryIds.length > 0) {
      await this.redis.zrem(this.holdsKey, ...deliveryIds);
    }
  }

  /**
   * Records that held entries alone exceeded the byte budget (remembered a while after the last
   * time, for readiness and /v1/status). Returns when this episode began.
   */
  async markOverBudget(atMs: number, evicted: number): Promise<number> {
    const replies = await this.redis
      .multi()
      .hsetnx(this.overBudgetKey, 'since', atMs)
      .hset(this.overBudgetKey, 'last', atMs)
      .hincrby(this.overBudgetKey, 'evicted', evicted)
      .pexpire(this.overBudgetKey, OVER_BUDGET_MEMORY_MS)
      .hget(this.overBudgetKey, 'since')
      .exec();
    const since = Number(replies?.[4]?.[1]);
    return Number.isFinite(since) ? since : atMs;
  }

  private async groupInfo(): Promise<
    { lastDelivered: string; pending: number; lag?: number; oldestPending?: string } | undefined
  > {
    let groups: unknown[];
    try {
      groups = (await this.redis.xinfo('GROUPS', this.streamKey)) as unknown[];
    } catch (error) {
      if (isGroupMissing(error)) {
        return undefined;
      }
      throw error;
    }
    const group = groups.map(fieldMap).find((g) => g.name === FAN_OUT_GROUP);
    if (!group) {
      return undefined;
    }
    const pending = Number(group.pending ?? 0);
    let oldestPending: string | undefined;
    if (pending > 0) {
      const summary = (await this.redis.xpending(this.streamKey, FAN_OUT_GROUP)) as [
        number,
        string | null,
        string | null,
        unknown,
      ];
      oldestPending = summary[1] ?? undefined;
    }
    const lag = group.lag;
    return {
      lastDelivered:
        typeof group['last-delivered-id'] === 'string' ? group['last-delivered-id'] : '0-0',
      pending,
      lag: lag === null || lag === undefined ? undefined : Number(lag),
      oldestPending,
    };
  }
}

/** XINFO replies are flat [name, value, name, value, ...] arrays. */
function fieldMap(raw: unknown): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      map[String(raw[i])] = raw[i + 1];
    }
  }
  return map;
}
