import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { type DeliveryJobData, JobName, QueueName } from './queue.constants';

/** The custom backoff type delivery jobs are added with (see the deliveries worker). */
export const WEBHOOK_BACKOFF = 'webhook';

/** A delivery is being attempted right now; it cannot be requeued until that attempt ends. */
export class DeliveryBusyError extends Error {
  readonly code = 'DELIVERY_BUSY';
  constructor(deliveryId: string) {
    super(`delivery ${deliveryId} is being attempted right now`);
    this.name = 'DeliveryBusyError';
  }
}

export const QUEUE_STATES = [
  'waiting',
  'delayed',
  'active',
  'failed',
  'completed',
  'prioritized',
] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

export interface AddOptions {
  /** Wait this long before the attempt (a retry). */
  delayMs?: number;
  /** Attempts already made outside this job (the fan-out's inline attempt). */
  attemptsUsed?: number;
}

/**
 * The deliveries queue: the only code that knows BullMQ's jobs, states and options. One job per
 * delivery, its id the delivery id, so adding a delivery twice is harmless.
 */
@Injectable()
export class DeliveryQueue {
  private readonly options: JobsOptions;
  private readonly maxAttempts: number;

  constructor(
    @InjectQueue(QueueName.Deliveries) private readonly queue: Queue<DeliveryJobData>,
    config: AppConfig,
  ) {
    this.maxAttempts = config.delivery.retryScheduleMs.length + 1;
    this.options = {
      attempts: this.maxAttempts,
      backoff: { type: WEBHOOK_BACKOFF },
      // The delivery record holds the history and guards against a second fan-out, so a
      // succeeded job need not stay in Redis. Dead ones stay (failed set) for retry and replay.
      removeOnComplete: true,
      removeOnFail: { age: config.eventRetentionSeconds, count: config.eventRetentionMaxCount },
    };
  }

  get name(): string {
    return this.queue.name;
  }

  /** Connection errors of the queue (logged by the caller; BullMQ would print them otherwise). */
  onError(listener: (error: Error) => void): void {
    this.queue.on('error', listener);
  }

  async add(data: DeliveryJobData, options: AddOptions = {}): Promise<void> {
    const used = options.attemptsUsed ?? 0;
    await this.queue.add(JobName.Deliver, used > 0 ? { ...data, attemptOffset: used } : data, {
      ...this.options,
      attempts: Math.max(1, this.maxAttempts - used),
      delay: options.delayMs,
      jobId: data.deliveryId,
    });
  }

  async addMany(jobs: readonly DeliveryJobData[]): Promise<void> {
    if (jobs.length > 0) {
      await this.queue.addBulk(
        jobs.map((data) => ({
          name: JobName.Deliver,
          data,
          opts: { ...this.options, jobId: data.deliveryId },
        })),
      );
    }
  }

  /**
   * Runs a delivery again now with a fresh schedule: promotes a waiting retry, revives a finished
   * job, or adds one when the job is gone (trimmed, or the delivery never needed one).
   * `beforeRun` is called once the delivery is known not to be running and before it can run
   * again (the caller marks the record pending there: written later, it could overwrite the
   * outcome of the attempt it asked for).
   */
  async requeue(data: DeliveryJobData, beforeRun: () => Promise<void>): Promise<void> {
    const job = await this.queue.getJob(data.deliveryId);
    const state = job ? await job.getState() : 'unknown';
    if (state === 'active') {
      throw new DeliveryBusyError(data.deliveryId);
    }
    await beforeRun();
    if (!job) {
      await this.add({ ...data, manual: true });
      return;
    }
    switch (state) {
      case 'delayed':
        await job.promote();
        return;
      case 'failed':
      case 'completed':
        await job.updateData({ ...job.data, manual: true, attemptOffset: 0 });
        await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
        return;
      case 'unknown':
        await this.add({ ...data, manual: true });
        return;
      case 'waiting':
      case 'prioritized':
      case 'waiting-children':
        // It is about to run anyway.
        return;
    }
  }

  /** Runs a waiting (delayed) delivery now; false when it has no delayed job. */
  async promote(deliveryId: string): Promise<boolean> {
    const job = await this.queue.getJob(deliveryId);
    if (!job || !(await job.isDelayed())) {
      return false;
    }
    try {
      await job.promote();
      return true;
    } catch {
      // It was promoted, or started, a moment ago.
      return false;
    }
  }

  /** The state of a delivery's job, or undefined when it has none (never queued, or removed). */
  async stateOf(deliveryId: string): Promise<string | undefined> {
    const job = await this.queue.getJob(deliveryId);
    if (!job) {
      return undefined;
    }
    const state = await job.getState();
    return state === 'unknown' ? undefined : state;
  }

  async counts(): Promise<Record<QueueState, number>> {
    const counts = await this.queue.getJobCounts(...QUEUE_STATES);
    const out = {} as Record<QueueState, number>;
    for (const state of QUEUE_STATES) {
      out[state] = counts[state] ?? 0;
    }
    return out;
  }
}
