import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { computeBackoffMs } from '../platform/reconnect-backoff';
import { EventNormalizer } from '../events/event-normalizer.service';
import { QuarantineRepository } from '../events/quarantine.repository';
import { InjectLogger } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { EventProducer } from '../queue/event-producer.service';
import type { FrameSink } from '../platform/opentact-connection.service';

/** Thrown to the connection when the service is stopping and a frame could not be stored. */
export class IngestStoppedError extends Error {
  readonly code = 'INGEST_STOPPED';
}

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * The frame sink of the Opentact connection: normalise, then either enqueue (deduplicated) or
 * quarantine. A Redis write that fails is retried until it succeeds or the service stops, so a
 * frame read off the socket is only ever lost to a shutdown that outlives Redis, and then it is
 * logged. The connection pauses the socket while too many frames are in here.
 */
@Injectable()
export class EventIngestor implements FrameSink, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private stopping = false;

  constructor(
    private readonly normalizer: EventNormalizer,
    private readonly producer: EventProducer,
    private readonly quarantine: QuarantineRepository,
    private readonly metrics: MetricsService,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'ingest' });
  }

  async onFrame(data: Buffer, isBinary: boolean, receivedAtMs: number): Promise<void> {
    const receivedAt = new Date(receivedAtMs);
    const outcome = this.normalizer.normalize(data, isBinary, receivedAt);
    switch (outcome.kind) {
      case 'control':
        this.metrics.framesReceived.inc({ frame_type: outcome.frameType });
        return;
      case 'quarantine': {
        this.metrics.framesReceived.inc({ frame_type: 'invalid' });
        const entry = await this.withRetry('quarantine', () =>
          this.quarantine.add({
            data,
            isBinary,
            reason: outcome.reason,
            detail: outcome.detail,
            at: receivedAt,
          }),
        );
        this.metrics.framesQuarantined.inc({ reason: outcome.reason });
        this.logger.warn(
          {
            quarantineId: entry.id,
            reason: outcome.reason,
            detail: outcome.detail,
            size: data.length,
          },
          'frame quarantined',
        );
        return;
      }
      case 'event': {
        const { event } = outcome;
        const frameType = typeof event.raw.type === 'string' ? event.raw.type : 'unknown';
        this.metrics.framesReceived.inc({ frame_type: frameType });
        const result = await this.withRetry('enqueue', () => this.producer.enqueue(event));
        if (result === 'duplicate') {
          this.metrics.duplicatesSuppressed.inc();
          this.logger.debug(
            { eventId: event.id, eventType: event.type },
            'duplicate event suppressed',
          );
        } else {
          this.metrics.eventsEnqueued.inc({ event_type: event.type });
          this.logger.debug({ eventId: event.id, eventType: event.type }, 'event enqueued');
        }
        return;
      }
    }
  }

  /** After the connection stopped reading (onModuleDestroy), give up on writes that still fail. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  private async withRetry<T>(what: string, write: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        this.metrics.enqueueErrors.inc();
        if (this.stopping) {
          this.logger.error(
            { err: error, what },
            'frame not stored: service stopping while Redis fails',
          );
          throw new IngestStoppedError(`${what} failed while stopping`);
        }
        const delay = Math.max(
          RETRY_BASE_MS,
          computeBackoffMs(attempt, { baseMs: RETRY_BASE_MS, maxMs: RETRY_MAX_MS }),
        );
        this.logger.warn(
          { err: error, what, attempt, retryInMs: Math.round(delay) },
          'Redis write failed, retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
