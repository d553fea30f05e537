import type { WebSocket } from 'ws';
import type { EventTypeMatcher } from '../subscriptions/subscription-matcher';
import type { StreamEvent, StreamSink } from './stream-hub.service';
import type { STREAM_CLOSE_REASON_LABELS } from '../metrics/label-values';

/** Close codes of the stream, documented in the OpenAPI description of GET /v1/stream. */
export const StreamCloseCode = {
  /** The server is shutting down. */
  GoingAway: 1001,
  /** The client fell too far behind, or could not catch up: reconnect with `since`. */
  TryAgainLater: 1013,
  /** No valid key within the auth window. */
  Unauthorized: 4401,
  /** `since` names an event no longer retained. */
  SinceNotRetained: 4404,
  /** A message the stream does not understand (only one auth message is expected). */
  BadMessage: 4400,
} as const;

/** Why the server closed a client: a bounded set, because it is a metric label. */
export type CloseReason = (typeof STREAM_CLOSE_REASON_LABELS)[number];

export interface StreamClientOptions {
  maxBufferBytes: number;
  onSent: () => void;
  onClosedByServer: (reason: CloseReason) => void;
}

/**
 * One WebSocket stream client: what it asked for and where it is in the log. Sending never lets
 * the socket's own buffer grow past `maxBufferBytes`: a client that reads slower than events
 * arrive is closed (1013) and can come back with `since` for what it missed.
 */
export class StreamClient implements StreamSink {
  cursor = '0-0';
  live = false;
  private closedByServer = false;

  constructor(
    private readonly ws: WebSocket,
    readonly matcher: EventTypeMatcher,
    private readonly options: StreamClientOptions,
  ) {}

  get closed(): boolean {
    return this.closedByServer || this.ws.readyState !== this.ws.OPEN;
  }

  send(event: StreamEvent): void {
    if (this.closed) {
      return;
    }
    if (this.ws.bufferedAmount + event.body.length > this.options.maxBufferBytes) {
      this.close(StreamCloseCode.TryAgainLater, 'too far behind; reconnect with since', 'slow');
      return;
    }
    this.ws.send(event.body);
    this.options.onSent();
  }

  fail(code: number, reason: string): void {
    this.close(code, reason, 'catch_up');
  }

  close(code: number, reason: string, why: CloseReason): void {
    if (this.closedByServer) {
      return;
    }
    this.closedByServer = true;
    this.options.onClosedByServer(why);
    this.ws.close(code, reason);
    // A client too slow to read its buffer may not read the close either.
    setTimeout(() => this.ws.terminate(), 5_000).unref();
  }
}
