import { type Job, type Processor, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { errorSummary } from '../logging/logger';
import { RepeatedErrorLog } from '../logging/repeated-error.log';

export interface ManagedWorkerOptions<D> {
  queueName: string;
  processor: Processor<D>;
  workerOptions: Omit<WorkerOptions, 'autorun'>;
  logger: Logger;
  /** Pinged before the worker starts consuming. */
  redis: Redis;
}

/**
 * A BullMQ worker built from runtime configuration (the decorator form of @nestjs/bullmq fixes
 * lock duration and backoff at compile time, and ours come from the environment). It starts
 * paused and only begins consuming once Redis answers; `close` is bounded, because BullMQ's own
 * close waits for in-flight jobs without a limit.
 */
export class ManagedWorker<D> {
  readonly worker: Worker<D>;
  private running = false;
  private stopped = false;

  constructor(private readonly options: ManagedWorkerOptions<D>) {
    this.worker = new Worker<D>(options.queueName, options.processor, {
      ...options.workerOptions,
      autorun: false,
    });
    // During a Redis outage every reconnect attempt is an 'error': logged once per interval.
    const errors = new RepeatedErrorLog(
      options.logger.child({ queue: options.queueName }),
      'worker error',
    );
    this.worker.on('error', (err) => errors.report('worker', err));
    this.worker.on('failed', (job: Job<D> | undefined, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        options.logger.debug({ jobId: job.id, err: err.message }, 'job failed for good');
      }
    });
  }

  get isRunning(): boolean {
    return this.running && !this.stopped && this.worker.isRunning();
  }

  /** Resolves once the worker consumes; waits (retrying the ping) while Redis is away. */
  async start(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.options.redis.ping();
        break;
      } catch (err) {
        this.options.logger.warn(
          { err: errorSummary(err), attempt, queue: this.options.queueName },
          'Redis not answering yet; worker stays paused',
        );
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 5_000)));
      }
    }
    if (this.stopped) {
      return;
    }
    this.running = true;
    // run() resolves only when the worker closes; errors inside it are emitted as 'error'.
    this.worker.run().catch((err: unknown) => {
      this.options.logger.error(
        { err, queue: this.options.queueName },
        'worker stopped with an error',
      );
    });
    this.options.logger.info(
      { queue: this.options.queueName, concurrency: this.worker.concurrency },
      'worker consuming',
    );
  }

  /**
   * Stops fetching and waits for in-flight jobs up to `timeoutMs`. Jobs still running then are
   * abandoned with their locks: once the lock expires BullMQ's stalled-job check hands them to
   * another worker, so nothing is lost (a receiver may see that attempt twice).
   */
  async close(timeoutMs: number): Promise<void> {
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    const graceful = this.worker.close(false).then(() => 'closed' as const);
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([graceful, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      graceful.catch(() => undefined);
      this.options.logger.warn(
        { queue: this.options.queueName, timeoutMs },
        'in-flight jobs did not finish in time; leaving them to the stalled-job check',
      );
    }
    this.running = false;
  }
}
