import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { redisKey } from '../redis/redis-connection.factory';
import { InjectRedis } from '../redis/redis.module';
import type { QuarantineReason } from './normalized-event';

export interface QuarantinedFrame {
  id: string;
  at: string;
  reason: QuarantineReason;
  detail: string;
  binary: boolean;
  /** Size of the frame as received, before truncation. */
  size: number;
  truncated: boolean;
  /** The frame's first bytes (see maxRawBytes), base64 so binary frames survive. */
  rawBase64: string;
}

export interface QuarantineInput {
  data: Buffer;
  isBinary: boolean;
  reason: QuarantineReason;
  detail: string;
  at: Date;
  /** The frame's full size when `data` holds only its beginning (or nothing of it). */
  size?: number;
}

/**
 * KEYS: the list (newest first), the per-reason counts, the byte total of the list.
 * ARGV: entry, reason, max count, max bytes.
 *
 * Pushes the entry, then drops the oldest entries until the list is within both caps; the newest
 * entry is always kept (its raw bytes are cut to fit, see maxRawBytes). The byte total lives in its
 * own key, so a push costs O(1) plus the entries it drops. When that key is missing (a list
 * written before the cap existed, or a lost key), the kept entries are measured once, newest
 * first, in chunks, and whatever falls outside the caps is trimmed: never more than the byte cap
 * is read.
 */
const ADD_SCRIPT = `
local list, counts, bytes = KEYS[1], KEYS[2], KEYS[3]
local entry, reason = ARGV[1], ARGV[2]
local maxCount, maxBytes = tonumber(ARGV[3]), tonumber(ARGV[4])

local function measure()
  local total, kept, start = 0, 0, 0
  local room = maxBytes - #entry
  while true do
    local chunk = redis.call('LRANGE', list, start, start + 99)
    if #chunk == 0 then
      return total
    end
    for _, item in ipairs(chunk) do
      if kept + 1 >= maxCount or total + #item > room then
        if kept == 0 then
          redis.call('DEL', list)
        else
          redis.call('LTRIM', list, 0, kept - 1)
        end
        return total
      end
      total = total + #item
      kept = kept + 1
    end
    start = start + 100
  end
end

local total
if redis.call('LLEN', list) == 0 then
  total = 0
else
  total = tonumber(redis.call('GET', bytes) or '')
  if total == nil then
    total = measure()
  end
end
redis.call('LPUSH', list, entry)
total = total + #entry
local length = redis.call('LLEN', list)
while length > maxCount or (total > maxBytes and length > 1) do
  total = total - #redis.call('RPOP', list)
  length = length - 1
end
if total < 0 then
  total = 0
end
redis.call('SET', bytes, total)
redis.call('HINCRBY', counts, reason, 1)
return total
`;

type WithQuarantineScript = Redis & {
  otbQuarantineAdd(
    listKey: string,
    countsKey: string,
    bytesKey: string,
    entry: string,
    reason: string,
    maxCount: number,
    maxBytes: number,
  ): Promise<number>;
};

/** The raw bytes of one entry take at most this share of the byte cap, so several entries fit. */
const RAW_SHARE_OF_CAP = 4;

/**
 * Frames the normaliser refused, kept with their first bytes so nothing is silently dropped and an
 * operator can see what Opentact sent. Newest first; capped by QUARANTINE_MAX_COUNT entries and
 * QUARANTINE_MAX_BYTES in total, the oldest going first.
 */
@Injectable()
export class QuarantineRepository {
  private readonly listKey: string;
  private readonly countsKey: string;
  private readonly bytesKey: string;
  private readonly maxCount: number;
  private readonly maxBytes: number;
  /** Raw bytes kept per entry: the frame limit, or a quarter of the byte cap if that is less. */
  readonly maxRawBytes: number;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
  ) {
    this.listKey = redisKey(config.redis.prefix, 'quarantine');
    this.countsKey = redisKey(config.redis.prefix, 'quarantine', 'counts');
    this.bytesKey = redisKey(config.redis.prefix, 'quarantine', 'bytes');
    this.maxCount = config.quarantineMaxCount;
    this.maxBytes = config.quarantineMaxBytes;
    this.maxRawBytes = Math.min(
      config.opentact.maxFrameBytes,
      Math.floor(config.quarantineMaxBytes / RAW_SHARE_OF_CAP),
    );
    if (!('otbQuarantineAdd' in redis)) {
      redis.defineCommand('otbQuarantineAdd', { numberOfKeys: 3, lua: ADD_SCRIPT });
    }
  }

  async add(input: QuarantineInput): Promise<QuarantinedFrame> {
    const size = Math.max(input.size ?? 0, input.data.length);
    const kept = input.data.subarray(0, this.maxRawBytes);
    const entry: QuarantinedFrame = {
      id: randomUUID(),
      at: input.at.toISOString(),
      reason: input.reason,
      detail: input.detail,
      binary: input.isBinary,
      size,
      truncated: kept.length < size,
      rawBase64: kept.toString('base64'),
    };
    await (this.redis as WithQuarantineScript).otbQuarantineAdd(
      this.listKey,
      this.countsKey,
      this.bytesKey,
      JSON.stringify(entry),
      input.reason,
      this.maxCount,
      this.maxBytes,
    );
    return entry;
  }

  async list(offset: number, limit: number): Promise<{ total: number; items: QuarantinedFrame[] }> {
    const [total, items] = await Promise.all([
      this.redis.llen(this.listKey),
      this.redis.lrange(this.listKey, offset, offset + limit - 1),
    ]);
    return { total, items: items.map((s) => JSON.parse(s) as QuarantinedFrame) };
  }

  async counts(): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(this.countsKey);
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  /** Entries kept and the bytes they take in Redis (the serialised entries). */
  async usage(): Promise<{ count: number; bytes: number }> {
    const [count, bytes] = await Promise.all([
      this.redis.llen(this.listKey),
      this.redis.get(this.bytesKey),
    ]);
    return { count, bytes: count === 0 ? 0 : Number(bytes ?? 0) };
  }
}
