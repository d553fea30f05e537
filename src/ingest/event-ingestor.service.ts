import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { TickBatcher } from '../common/tick-batcher';
import { entityStateAlias } from '../events/entity-state-alias';
import { EventLog, type EventToAppend } from '../events/event-log';
import { EventNormalizer } from '../events/event-normalizer.service';
import { frameTypeLabel, INVALID_FRAME_TYPE_LABEL } from '../events/frame-kind';
import { orderingKeyOf } from '../events/ordering-key';
import { type NormalizedEvent, QuarantineReason } from '../events/normalized-event';
import { QuarantineRepository } from '../events/quarantine.repository';
import { webhookBody, webhookBodyWithRawText } from '../events/webhook-body';
import { InjectLogger } from '../logging/logging.module';
import { eventTypeLabel } from '../metrics/label-values';
import { MetricsService } from '../metrics/metrics.service';
import type { FrameSink } from '../platform/opentact-connection.types';
import { computeBackoffMs } from '../platform/reconnect-backoff';

/** Thrown to the connection when the service is stopping and a frame could not be stored. */
export class IngestStoppedError extends Error {
  readonly code = 'INGEST_STOPPED';
}

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5_000;
/** One append script runs inside Redis; these keep each one short. */
const MAX_BATCH_EVENTS = 256;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

interface Pending {
  event: NormalizedEvent;
  append: EventToAppend;
  /** Recovered over REST: its outcome is counted by the recovery's own metric. */
  recovered?: true;
}

/**
 * The frame sink of the Opentact connection: normalise, then append to the event log
 * (deduplicated) or quarantine. Frames read together are appended together, in one round trip
 * with their dedup claims, on the next turn of the event loop. A Redis write that fails is
 * retried until it succeeds or the service stops, so a frame read off the socket is only ever
 * lost to a shutdown that outlives Redis, and then it is logged. The connection pauses the socket
 * while too many frames are in here.
 */
@Injectable()
export class EventIngestor implements FrameSink, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private stopping = false;
  private readonly batcher: TickBatcher<Pending, string | undefined>;

  constructor(
    private readonly normalizer: EventNormalizer,
    private readonly log: EventLog,
    private readonly quarantine: QuarantineRepository,
    private readonly metrics: MetricsService,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'ingest' });
    this.batcher = new TickBatcher({
      flush: (items) => this.withRetry('append', () => this.appendBatch(items)),
      maxItems: MAX_BATCH_EVENTS,
      maxSize: MAX_BATCH_BYTES,
      sizeOf: (item) => item.append.body.length,
    });
  }

  onFrame(data: Buffer, isBinary: boolean, receivedAtMs: number): Promise<void> {
    const outcome = this.normalizer.normalize(data, isBinary, new Date(receivedAtMs));
    switch (outcome.kind) {
      case 'control':
        this.metrics.framesReceived.inc({ frame_type: frameTypeLabel(outcome.frameType) });
        return Promise.resolve();
      case 'quarantine':
        this.metrics.framesReceived.inc({ frame_type: INVALID_FRAME_TYPE_LABEL });
        return this.storeQuarantined(data, isBinary, receivedAtMs, outcome.reason, outcome.detail);
      case 'event': {
        const { event } = outcome;
        this.metrics.framesReceived.inc({
          frame_type: frameTypeLabel(typeof event.raw.type === 'string' ? event.raw.type : ''),
        });
        // The frame's own text goes into the body as `raw`: decoded again here (a microsecond)
        // rather than serialised again from the parsed frame.
        const body = isBinary
          ? webhookBody(event)
          : webhookBodyWithRawText(event, data.toString('utf8'));
        const append = this.toAppend(event, body, []);
        return this.batcher.add({ event, append }).then(() => undefined);
      }
    }
  }

  /**
   * Events recovered over Opentact's REST searches, appended through the same batches, dedup and
   * retries as frames read off the socket. `aliases` are the entity states each stands for.
   * Resolves, per event, to its log entry id, or undefined when the WSS (or an earlier recovery)
   * already delivered that state.
   */
  appendRecovered(
    items: readonly { event: NormalizedEvent; aliases: readonly string[] }[],
  ): Promise<(string | undefined)[]> {
    return Promise.all(
      items.map(({ event, aliases }) =>
        this.batcher.add({
          event,
          append: this.toAppend(event, webhookBody(event), aliases),
          recovered: true,
        }),
      ),
    );
  }

  /**
   * The entity state an event stands for is claimed with it (see entity-state-alias.ts), so a
   * state read here and recovered over REST, in either order, is one event.
   */
  private toAppend(event: NormalizedEvent, body: string, extra: readonly string[]): EventToAppend {
    const append: EventToAppend = { id: event.id, body };
    const alias = entityStateAlias(event.type, event.data);
    const aliases = [...new Set([...(alias === undefined ? [] : [alias]), ...extra])];
    if (aliases.length > 0) {
      append.aliases = aliases;
    }
    const orderingKey = orderingKeyOf(event.type, event.data);
    if (orderingKey !== undefined) {
      append.orderingKey = orderingKey;
    }
    return append;
  }

  /**
   * A frame over the socket's hard limit reset the link before any of it could be read: quarantined
   * as an empty frame of at least that size, so it is counted and seen, not silently lost.
   */
  async recordUnreadableFrame(limitBytes: number | undefined, atMs: number): Promise<void> {
    this.metrics.framesReceived.inc({ frame_type: INVALID_FRAME_TYPE_LABEL });
    const size = limitBytes === undefined ? 0 : limitBytes + 1;
    try {
      await this.storeQuarantined(
        Buffer.alloc(0),
        false,
        atMs,
        QuarantineReason.TooLarge,
        `frame over the socket limit${limitBytes === undefined ? '' : ` of ${limitBytes} bytes`}: nothing of it could be read; the link was re-established at once`,
        size,
      );
    } catch {
      // The service is stopping while Redis fails; storeQuarantined has logged it.
    }
  }

  /** After the connection stopped reading (onModuleDestroy), give up on writes that still fail. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  private async appendBatch(items: Pending[]): Promise<(string | undefined)[]> {
    const entryIds = await this.log.append(items.map((i) => i.append));
    const debug = this.logger.isLevelEnabled('debug');
    for (let i = 0; i < items.length; i++) {
      const { event, recovered } = items[i];
      if (entryIds[i] === undefined) {
        // A recovered state already delivered through the WSS is the recovery working, not a
        // duplicate frame: otb_recovery_events_total{outcome="duplicate"} counts it.
        if (!recovered) {
          this.metrics.duplicatesSuppressed.inc();
        }
        if (debug) {
          this.logger.debug(
            { eventId: event.id, eventType: event.type },
            'duplicate event suppressed',
          );
        }
      } else {
        this.metrics.eventsEnqueued.inc({ event_type: eventTypeLabel(event.type) });
        if (debug) {
          this.logger.debug(
            { eventId: event.id, eventType: event.type, entryId: entryIds[i] },
            'event appended',
          );
        }
      }
    }
    return entryIds;
  }

  private async storeQuarantined(
    data: Buffer,
    isBinary: boolean,
    receivedAtMs: number,
    reason: QuarantineReason,
    detail: string,
    size?: number,
  ): Promise<void> {
    const entry = await this.withRetry('quarantine', () =>
      this.quarantine.add({ data, isBinary, reason, detail, at: new Date(receivedAtMs), size }),
    );
    this.metrics.framesQuarantined.inc({ reason });
    this.logger.warn(
      { quarantineId: entry.id, reason, detail, size: entry.size },
      'frame quarantined',
    );
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
