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
  /** The frame's bytes (truncated to the frame limit), base64 so binary frames survive. */
  rawBase64: string;
}

/**
 * Frames the normaliser refused, kept with their raw bytes so nothing is silently dropped and an
 * operator can see what Opentact sent. Newest first; capped by QUARANTINE_MAX_COUNT.
 */
@Injectable()
export class QuarantineRepository {
  private readonly listKey: string;
  private readonly countsKey: string;
  private readonly maxCount: number;
  private readonly maxBytes: number;

  constructor(
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
  ) {
    this.listKey = redisKey(config.redis.prefix, 'quarantine');
    this.countsKey = redisKey(config.redis.prefix, 'quarantine', 'counts');
    this.maxCount = config.quarantineMaxCount;
    this.maxBytes = config.opentact.maxFrameBytes;
  }

  async add(input: {
    data: Buffer;
    isBinary: boolean;
    reason: QuarantineReason;
    detail: string;
    at: Date;
  }): Promise<QuarantinedFrame> {
    const truncated = input.data.length > this.maxBytes;
    const entry: QuarantinedFrame = {
      id: randomUUID(),
      at: input.at.toISOString(),
      reason: input.reason,
      detail: input.detail,
      binary: input.isBinary,
      size: input.data.length,
      truncated,
      rawBase64: (truncated ? input.data.subarray(0, this.maxBytes) : input.data).toString(
        'base64',
      ),
    };
    await this.redis
      .multi()
      .lpush(this.listKey, JSON.stringify(entry))
      .ltrim(this.listKey, 0, this.maxCount - 1)
      .hincrby(this.countsKey, input.reason, 1)
      .exec();
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
}
