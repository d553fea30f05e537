import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { EventLog, type LoggedEvent } from '../events/event-log';
import { errorSummary } from '../logging/logger';
import { RepeatedErrorLog } from '../logging/repeated-error.log';
import type { MetricsService } from '../metrics/metrics.service';
import type { EventLogRetention } from './event-log-retention';
import type { FanOut } from './fan-out.service';

export interface FanOutConsumerOptions {
  /** Events being fanned out at once in this process. */
  concurrency: number;
  /**
   * An entry unacknowledged this long is taken to be abandoned (its worker died) and is claimed
   * by another. Entries this process is working on are touched well before that.
   */
  claimAfterMs: number;
  /** How long a read blocks waiting for new entries (bounds how fast a stop is noticed). */
  blockMs?: number;
  /** How often abandoned entries are looked for, the log trimmed, own entries touched. */
  maintenanceEveryMs?: number;
  /** Hand-outs after which an entry that keeps failing is given up (logged and counted). */
  maxDeliveries?: number;
}

/** What the consumer needs of the event log (the whole EventLog in production). */
export type FanOutLog = Pick<
  EventLog,
  'ensureGroup' | 'readNew' | 'ack' | 'touch' | 'claimAbandoned' | 'removeIdleConsumers'
>;

const READ_BATCH = 100;
const ERROR_BACKOFF_MS = 1_000;
const IDLE_CONSUMER_MS = 60 * 60_000;
const IDLE_CONSUMER_CHECK_MS = 10 * 60_000;

/**
 * Reads the event log as one consumer of the fan-out group and fans each entry out, up to
 * `concurrency` at a time, acknowledging each once its deliveries are started (inline attempts
 * made, or jobs queued). Entries of a process that died stay pending and are claimed by another
 * consumer after `claimAfterMs`; entries this process holds are touched so that nobody else
 * claims them while it works. Acknowledgements made in one turn of the event loop go in one
 * command.
 */
export class FanOutConsumer {
  readonly name = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly inflight = new Set<string>();
  private readonly toAck: string[] = [];
  private ackScheduled = false;
  private slotFreed?: () => void;
  private running = false;
  private stopping = false;
  private loopDone?: Promise<void>;
  private maintenance?: NodeJS.Timeout;
  private maintaining = false;
  private lastConsumerCheckMs = 0;
  private readonly errors: RepeatedErrorLog;
  private readonly blockMs: number;
  private readonly maintenanceEveryMs: number;
  private readonly maxDeliveries: number;

  constructor(
    private readonly log: FanOutLog,
    private readonly fanOut: Pick<FanOut, 'fanOut'>,
    /** A connection of this consumer's own: the blocking read holds it. */
    private readonly connection: Redis,
    private readonly metrics: MetricsService,
    private readonly logger: Logger,
    private readonly options: FanOutConsumerOptions,
    /** Trims the log in each maintenance pass. */
    private readonly retention: Pick<EventLogRetention, 'enforce'>,
  ) {
    this.blockMs = options.blockMs ?? 1_000;
    this.maintenanceEveryMs =
      options.maintenanceEveryMs ?? Math.min(5_000, options.claimAfterMs / 3);
    this.maxDeliveries = options.maxDeliveries ?? 10;
    this.errors = new RepeatedErrorLog(logger, 'fan-out consumer error');
    // During a Redis outage every reconnect attempt is an 'error': logged once per interval.
    connection.on('error', (err: unknown) => this.errors.report('connection', err));
  }

  get isRunning(): boolean {
    return this.running && !this.stopping;
  }

  /** Entries being fanned out right now. */
  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Resolves once consuming (waits, retrying, while Redis is away); the loop runs on its own. */
  async start(ready: () => Promise<unknown>): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        await this.log.ensureGroup();
        await ready();
        break;
      } catch (err) {
        this.logger.warn(
          { err: errorSummary(err), attempt },
          'event log not reachable yet; fan-out stays paused',
        );
        await sleep(Math.min(250 * 2 ** attempt, 5_000));
      }
    }
    if (this.stopping) {
      return;
    }
    this.running = true;
    this.loopDone = this.loop();
    this.maintenance = setInterval(() => void this.maintain(), this.maintenanceEveryMs);
    this.maintenance.unref();
    this.logger.info(
      { consumer: this.name, concurrency: this.options.concurrency },
      'fan-out consuming the event log',
    );
  }

  /**
   * Stops reading, then waits up to `timeoutMs` for entries in flight. What is still unfinished
   * stays pending and is claimed by another consumer once `claimAfterMs` has passed.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.maintenance);
    this.slotFreed?.();
    // Ends a blocking read at once; entries it was handed stay pending for another consumer.
    this.connection.disconnect();
    await this.loopDone?.catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    while (this.inflight.size > 0 && Date.now() < deadline) {
      await sleep(20);
    }
    await this.flushAcks();
    if (this.inflight.size > 0) {
      this.logger.warn(
        { inflight: this.inflight.size, timeoutMs },
        'events still being fanned out at shutdown; another worker will claim them',
      );
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const room = this.options.concurrency - this.inflight.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve;
        });
        continue;
      }
      try {
        const entries = await this.log.readNew(
          this.connection,
          this.name,
          Math.min(room, READ_BATCH),
          this.blockMs,
        );
        for (const entry of entries) {
          this.process(entry);
        }
      } catch (err) {
        if (this.stopping) {
          return;
        }
        this.errors.report('read', err);
        await sleep(ERROR_BACKOFF_MS);
      }
    }
  }

  private process(entry: LoggedEvent): void {
    if (this.inflight.has(entry.entryId)) {
      return;
    }
    if (entry.unreadable !== undefined) {
      // Cannot become a webhook however often it is tried: counted, logged, acknowledged.
      this.metrics.fanOutAbandoned.inc();
      this.logger.error(
        { entryId: entry.entryId, reason: entry.unreadable },
        'event log entry cannot be read; giving up on it',
      );
      this.ack(entry.entryId);
      return;
    }
    this.inflight.add(entry.entryId);
    this.fanOut.fanOut(entry).then(
      () => {
        this.finish(entry.entryId);
        this.ack(entry.entryId);
      },
      (err: unknown) => {
        // Left unacknowledged and no longer touched: claimed again after claimAfterMs.
        this.finish(entry.entryId);
        this.metrics.fanOutErrors.inc();
        this.errors.report('fan-out', err);
      },
    );
  }

  private finish(entryId: string): void {
    this.inflight.delete(entryId);
    const freed = this.slotFreed;
    this.slotFreed = undefined;
    freed?.();
  }

  private ack(entryId: string): void {
    this.toAck.push(entryId);
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      setImmediate(() => {
        this.ackScheduled = false;
        void this.flushAcks();
      });
    }
  }

  private async flushAcks(): Promise<void> {
    if (this.toAck.length === 0) {
      return;
    }
    const ids = this.toAck.splice(0, this.toAck.length);
    try {
      await this.log.ack(ids);
    } catch (err) {
      // The fan-out is done; an entry left pending is fanned out again after claimAfterMs and
      // finds its deliveries already recorded.
      this.errors.report('ack', err);
    }
  }

  /** Touch own entries, claim abandoned ones, trim the log. One pass at a time. */
  private async maintain(): Promise<void> {
    if (this.maintaining || this.stopping) {
      return;
    }
    this.maintaining = true;
    try {
      await this.log.touch(this.name, [...this.inflight]);
      const room = this.options.concurrency - this.inflight.size;
      if (room > 0) {
        const { claimed, exhausted } = await this.log.claimAbandoned(
          this.name,
          this.options.claimAfterMs,
          Math.min(room, READ_BATCH),
          this.maxDeliveries,
        );
        if (exhausted.length > 0) {
          this.metrics.fanOutAbandoned.inc(exhausted.length);
          this.logger.error(
            { entries: exhausted, maxDeliveries: this.maxDeliveries },
            'event log entries failed to fan out too many times; giving up on them',
          );
          await this.log.ack(exhausted);
        }
        if (claimed.length > 0) {
          this.logger.info({ entries: claimed.length }, 'claimed abandoned event log entries');
          claimed.forEach((entry) => this.process(entry));
        }
      }
      await this.retention.enforce(Date.now());
      if (Date.now() - this.lastConsumerCheckMs > IDLE_CONSUMER_CHECK_MS) {
        this.lastConsumerCheckMs = Date.now();
        await this.log.removeIdleConsumers(IDLE_CONSUMER_MS);
      }
    } catch (err) {
      this.errors.report('maintenance', err);
    } finally {
      this.maintaining = false;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
