import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { compareEntryIds, EventLog, type LoggedEvent } from '../events/event-log';
import { parseWebhookBody } from '../events/webhook-body';
import { InjectLogger } from '../logging/logging.module';
import { RepeatedErrorLog } from '../logging/repeated-error.log';
import { InjectRedis } from '../redis/redis.module';
import type { EventTypeMatcher } from '../subscriptions/subscription-matcher';

/** One event as the stream sends it: its place in the log, its type, and the webhook body. */
export interface StreamEvent {
  entryId: string;
  /** Empty for entries that are not streamed (test events, unreadable entries). */
  type: string;
  body: string;
}

/** A connected, authenticated stream client, as the hub sees it. */
export interface StreamSink {
  readonly matcher: EventTypeMatcher;
  /** The last log entry this client has been given or has had filtered out. */
  cursor: string;
  /** Catching up from `since` until this turns true; then fed by the live tail. */
  live: boolean;
  readonly closed: boolean;
  /** Sends one event; the sink enforces its own buffer bound (it closes itself when exceeded). */
  send(event: StreamEvent): void;
  /** Closes the client: it could not be brought up to date. */
  fail(code: number, reason: string): void;
}

const TAIL_BATCH = 500;
const TAIL_BLOCK_MS = 1_000;
const CATCH_UP_PAGE = 500;
/** Recent events kept in memory, so a client catching up switches to live without a gap. */
const RING_MAX_EVENTS = 10_000;
const RING_MAX_BYTES = 16 * 1024 * 1024;
/** A client that has not reached the live tail after this many pages is asked to come back. */
const MAX_CATCH_UP_PAGES = 2_000;
const RETRY_MS = 1_000;

const TYPE_MARK = '","type":"';

/**
 * The event type of a stored body without parsing all of it: bodies are the service's own JSON,
 * `{"id":"…","type":"…",…`, and a `","type":"` cannot occur inside the escaped id string.
 */
export function typeOfBody(body: string): string {
  const at = body.indexOf(TYPE_MARK);
  if (at > 0) {
    const start = at + TYPE_MARK.length;
    const end = body.indexOf('"', start);
    if (end > start) {
      return body.slice(start, end);
    }
  }
  try {
    return parseWebhookBody(body).type ?? '';
  } catch {
    return '';
  }
}

function streamEventOf(logged: LoggedEvent): StreamEvent {
  const streamed = logged.targetSubscriptionId === undefined && logged.unreadable === undefined;
  return {
    entryId: logged.entryId,
    type: streamed ? typeOfBody(logged.body) : '',
    body: streamed ? logged.body : '',
  };
}

/**
 * Feeds every stream client of this process from one live read of the event log (whichever
 * process ingested the event), and brings a client that asked for `since` up to date first:
 * pages of the log, then the recent events held here, then live, with no gap and no duplicate
 * because every hand-over compares log entry ids. The tail runs while at least one client is
 * connected.
 */
@Injectable()
export class StreamHub implements OnModuleDestroy {
  private readonly logger: Logger;
  private readonly errors: RepeatedErrorLog;
  private readonly sinks = new Set<StreamSink>();
  private ring: StreamEvent[] = [];
  private ringBytes = 0;
  /** Every entry after this one, up to `position`, is in `ring`. */
  private ringStart = '0-0';
  /** The last entry the tail has read. */
  private position = '0-0';
  private connection?: Redis;
  private tail?: Promise<void>;
  private starting?: Promise<void>;
  private destroyed = false;

  constructor(
    private readonly log: EventLog,
    @InjectRedis() private readonly redis: Redis,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'stream' });
    this.errors = new RepeatedErrorLog(this.logger, 'stream tail error');
  }

  /** Clients that get events as they are logged (attached and caught up). */
  get liveClientCount(): number {
    let live = 0;
    for (const sink of this.sinks) {
      if (sink.live) {
        live++;
      }
    }
    return live;
  }

  /**
   * Adds a client: live from now, or after the entry `sinceEntryId` (exclusive). Resolves once
   * the client is live (or closed).
   */
  async attach(sink: StreamSink, sinceEntryId?: string): Promise<void> {
    this.sinks.add(sink);
    await this.ensureTail();
    if (sinceEntryId === undefined) {
      sink.cursor = this.position;
      sink.live = true;
      return;
    }
    sink.cursor = sinceEntryId;
    await this.catchUp(sink);
  }

  detach(sink: StreamSink): void {
    this.sinks.delete(sink);
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    this.connection?.disconnect();
    await this.tail?.catch(() => undefined);
  }

  private async catchUp(sink: StreamSink): Promise<void> {
    for (let page = 0; page < MAX_CATCH_UP_PAGES; page++) {
      if (sink.closed || this.destroyed) {
        return;
      }
      if (compareEntryIds(sink.cursor, this.ringStart) >= 0) {
        // Synchronous from here: nothing the tail reads can slip between the ring and live.
        for (const event of this.ring) {
          this.offer(sink, event);
        }
        sink.live = true;
        return;
      }
      const entries = await this.log.readAfter(sink.cursor, CATCH_UP_PAGE);
      if (entries.length === 0) {
        // Entries between the cursor and the ring were trimmed from the log meanwhile.
        sink.cursor = this.ringStart;
        continue;
      }
      for (const entry of entries) {
        this.offer(sink, streamEventOf(entry));
      }
    }
    sink.fail(1013, 'could not catch up with the live stream; reconnect with since');
  }

  /** Gives `event` to `sink` unless it has had it already; advances the sink's cursor. */
  private offer(sink: StreamSink, event: StreamEvent): void {
    if (sink.closed || compareEntryIds(event.entryId, sink.cursor) <= 0) {
      return;
    }
    sink.cursor = event.entryId;
    if (event.type !== '' && sink.matcher.matches(event.type)) {
      sink.send(event);
    }
  }

  private async ensureTail(): Promise<void> {
    if (this.tail) {
      return;
    }
    this.starting ??= (async () => {
      const position = await this.log.lastEntryId();
      this.position = position;
      this.ringStart = position;
      this.ring = [];
      this.ringBytes = 0;
      this.connection ??= this.redis.duplicate({
        connectionName: 'otb-stream',
        enableAutoPipelining: false,
        maxRetriesPerRequest: null,
      });
      this.connection.on('error', (err: unknown) => this.errors.report('connection', err));
      this.tail = this.runTail();
    })().finally(() => {
      this.starting = undefined;
    });
    await this.starting;
  }

  /** Runs while clients are connected; marks itself stopped in the same turn as it last checks. */
  private async runTail(): Promise<void> {
    const connection = this.connection!;
    for (;;) {
      if (this.destroyed || this.sinks.size === 0) {
        this.tail = undefined;
        return;
      }
      let entries: LoggedEvent[];
      try {
        entries = await this.log.readLive(connection, this.position, TAIL_BATCH, TAIL_BLOCK_MS);
        this.errors.recovered('read');
      } catch (err) {
        if (this.destroyed) {
          this.tail = undefined;
          return;
        }
        this.errors.report('read', err);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        continue;
      }
      for (const entry of entries) {
        const event = streamEventOf(entry);
        this.position = event.entryId;
        this.remember(event);
        for (const sink of this.sinks) {
          if (sink.live) {
            this.offer(sink, event);
          }
        }
      }
    }
  }

  /** Keeps the event; past a bound, the oldest tenth goes at once (amortised, not per event). */
  private remember(event: StreamEvent): void {
    this.ring.push(event);
    this.ringBytes += event.body.length;
    if (this.ring.length <= RING_MAX_EVENTS && this.ringBytes <= RING_MAX_BYTES) {
      return;
    }
    let drop = 0;
    while (
      drop < this.ring.length - 1 &&
      (this.ring.length - drop > RING_MAX_EVENTS * 0.9 || this.ringBytes > RING_MAX_BYTES * 0.9)
    ) {
      this.ringBytes -= this.ring[drop].body.length;
      drop++;
    }
    if (drop === 0) {
      return;
    }
    this.ringStart = this.ring[drop - 1].entryId;
    this.ring = this.ring.slice(drop);
  }
}
