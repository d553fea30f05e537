import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import type { NormalizedEvent } from '../events/normalized-event';
import { InjectRedis } from '../redis/redis.module';
import { type EventJobData, eventJobId, JobName, QueueName } from './queue.constants';
import { redisKey } from './redis-connection.factory';

export type EnqueueResult = 'enqueued' | 'duplicate';

/**
 * Who gets to add an event. KEYS: the event's job hash, a short-lived claim marker.
 * 2: the job already exists (duplicate, nothing to do); 1: this caller claimed it (add it);
 * 0: another replica claimed it moments ago (duplicate, but add anyway: the add is idempotent,
 * and if that replica dies before its add lands, ours keeps the event).
 */
const CLAIM_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 2 end
if redis.call('SET', KEYS[2], '1', 'PX', ARGV[1], 'NX') then return 1 end
return 0
`;
const CLAIM_TTL_MS = 60_000;

type WithClaim = Redis & {
  otbClaimEvent(jobKey: string, claimKey: string, ttlMs: number): Promise<number>;
};

/**
 * Adds normalised events to the `events` queue, one job per event id. The job id is the dedup
 * key: BullMQ ignores an add whose id exists, and completed jobs are kept for the retention
 * window, so a frame seen twice within it (reconnect overlap, two ingest replicas) is enqueued
 * once. The claim tells duplicates apart exactly (for the metrics) and skips the add when the job
 * is already there.
 */
@Injectable()
export class EventProducer {
  private readonly retention: { age: number; count: number };
  private readonly prefix: string;

  constructor(
    @InjectQueue(QueueName.Events) private readonly queue: Queue<EventJobData>,
    @InjectRedis() private readonly redis: Redis,
    config: AppConfig,
  ) {
    this.retention = { age: config.eventRetentionSeconds, count: config.eventRetentionMaxCount };
    this.prefix = config.redis.prefix;
    if (!('otbClaimEvent' in redis)) {
      redis.defineCommand('otbClaimEvent', { numberOfKeys: 2, lua: CLAIM_SCRIPT });
    }
  }

  async enqueue(event: NormalizedEvent): Promise<EnqueueResult> {
    const jobId = eventJobId(event.id);
    const claim = await (this.redis as WithClaim).otbClaimEvent(
      this.queue.toKey(jobId),
      redisKey(this.prefix, 'claim', jobId),
      CLAIM_TTL_MS,
    );
    if (claim === 2) {
      return 'duplicate';
    }
    await this.queue.add(JobName.FanOut, event, {
      jobId,
      attempts: 10,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: this.retention,
      removeOnFail: this.retention,
    });
    return claim === 1 ? 'enqueued' : 'duplicate';
  }
}
