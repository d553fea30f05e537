import type { StreamEvent } from './types';

/** Close codes of GET /v1/stream (see the OpenAPI description). */
const UNAUTHORIZED = 4401;
const SINCE_NOT_RETAINED = 4404;
const MAX_BACKOFF_MS = 30_000;

export interface LiveStreamHandlers {
  onEvent(event: StreamEvent): void;
  /** A line for the operator: connecting, live, reconnecting in n s. */
  onState(state: string): void;
  onUnauthorized(): void;
}

/**
 * The live stream from a browser: the key goes in the first message (a browser cannot set
 * headers on a WebSocket), and every reconnect resumes after the last event seen (`since`), so
 * nothing is missed or shown twice across a dropped connection.
 */
export class LiveStream {
  private ws?: WebSocket;
  private lastId?: string;
  private backoffMs = 1_000;
  private timer?: number;
  private stopped = false;

  constructor(
    private readonly key: string,
    private readonly types: string,
    private readonly handlers: LiveStreamHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.ws?.close(1000, 'bye');
    this.ws = undefined;
  }

  private url(): string {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const params = new URLSearchParams({ types: this.types });
    if (this.lastId) {
      params.set('since', this.lastId);
    }
    return `${scheme}://${location.host}/v1/stream?${params.toString()}`;
  }

  private connect(): void {
    this.handlers.onState('connecting…');
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'auth', key: this.key }));
      this.handlers.onState(`live${this.types === '*' ? '' : ` (${this.types})`}`);
    });
    ws.addEventListener('message', (message: MessageEvent) => {
      if (typeof message.data !== 'string') {
        return;
      }
      let event: StreamEvent;
      try {
        event = JSON.parse(message.data) as StreamEvent;
      } catch {
        return;
      }
      this.lastId = event.id;
      this.backoffMs = 1_000;
      this.handlers.onEvent(event);
    });
    ws.addEventListener('close', (close: CloseEvent) => {
      if (this.ws !== ws || this.stopped) {
        return;
      }
      if (close.code === UNAUTHORIZED) {
        this.stopped = true;
        this.handlers.onState('closed: the key was refused');
        this.handlers.onUnauthorized();
        return;
      }
      if (close.code === SINCE_NOT_RETAINED) {
        // The last event left retention while away: start again from now.
        this.lastId = undefined;
      }
      const wait = this.backoffMs;
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
      this.handlers.onState(
        `disconnected${close.reason ? ` (${close.reason})` : ''}; reconnecting in ${Math.round(wait / 1000)} s`,
      );
      this.timer = window.setTimeout(() => this.connect(), wait);
    });
  }
}
