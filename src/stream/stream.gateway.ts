import type { IncomingMessage } from 'node:http';
import {
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import { AppConfig } from '../config/app-config';
import { InjectLogger } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { EventTypeMatcher } from '../subscriptions/subscription-matcher';
import { type CloseReason, StreamClient, StreamCloseCode } from './stream-client';
import { StreamHandshake, type StreamRequest } from './stream-handshake';
import { StreamHub } from './stream-hub.service';

export const STREAM_PATH = '/v1/stream';
/** A browser, which cannot set headers on a WebSocket, authenticates by message within this. */
export const AUTH_WINDOW_MS = 5_000;
/** The only message a client sends is the auth message. */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

interface Connection {
  ws: WebSocket;
  client: StreamClient;
  alive: boolean;
  timers: NodeJS.Timeout[];
}

/**
 * `GET /v1/stream`: every event as it is ingested, by WebSocket, for dashboards and scripts that
 * cannot expose a webhook endpoint. Each message is exactly a webhook body. The upgrade itself is
 * checked by StreamHandshake (see StreamWsAdapter); here a connection waits for its auth message
 * if it came without a key, then is handed to the hub. Nothing is sent to a socket before it is
 * authenticated.
 */
@WebSocketGateway({ path: STREAM_PATH, maxPayload: MAX_CLIENT_MESSAGE_BYTES })
export class StreamGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger: Logger;
  private readonly connections = new Map<WebSocket, Connection>();

  constructor(
    private readonly config: AppConfig,
    private readonly handshake: StreamHandshake,
    private readonly hub: StreamHub,
    private readonly metrics: MetricsService,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'stream' });
  }

  handleConnection(ws: WebSocket, req: IncomingMessage): void {
    const request = this.handshake.requestOf(req);
    if (!request) {
      ws.terminate();
      return;
    }
    const client = new StreamClient(ws, new EventTypeMatcher(request.types), {
      maxBufferBytes: this.config.stream.maxBufferBytes,
      onSent: () => this.metrics.streamMessages.inc(),
      onClosedByServer: (reason: CloseReason) => this.metrics.streamClosed.inc({ reason }),
    });
    const connection: Connection = { ws, client, alive: true, timers: [] };
    this.connections.set(ws, connection);
    this.metrics.streamClients.set(this.connections.size);
    ws.on('pong', () => {
      connection.alive = true;
    });
    ws.on('error', () => ws.terminate());
    if (request.principal) {
      this.start(connection, request);
      return;
    }
    connection.timers.push(
      setTimeout(
        () => client.close(StreamCloseCode.Unauthorized, 'no valid key', 'auth'),
        AUTH_WINDOW_MS,
      ),
    );
    ws.once('message', (data: RawData, isBinary: boolean) => {
      void this.authenticate(connection, request, data, isBinary);
    });
  }

  handleDisconnect(ws: WebSocket): void {
    const connection = this.connections.get(ws);
    if (!connection) {
      return;
    }
    connection.timers.forEach((t) => clearTimeout(t));
    this.hub.detach(connection.client);
    this.connections.delete(ws);
    this.metrics.streamClients.set(this.connections.size);
  }

  /** Connections open right now, authenticated or not (for the upgrade's client limit). */
  get connectionCount(): number {
    return this.connections.size;
  }

  private async authenticate(
    connection: Connection,
    request: StreamRequest,
    data: RawData,
    isBinary: boolean,
  ): Promise<void> {
    const { client } = connection;
    const key = isBinary ? undefined : authKeyOf(data);
    const principal = this.handshake.identify(key);
    clearTimeout(connection.timers.shift());
    if (!principal) {
      client.close(StreamCloseCode.Unauthorized, 'no valid key', 'auth');
      return;
    }
    const refusal = await this.handshake.resolveSince(request).catch(() => ({
      status: 503 as const,
      message: 'the event log cannot be read right now; reconnect later',
    }));
    if (refusal) {
      client.close(
        refusal.status === 404 ? StreamCloseCode.SinceNotRetained : StreamCloseCode.TryAgainLater,
        refusal.message.slice(0, 120),
        'since',
      );
      return;
    }
    this.start(connection, { ...request, principal });
  }

  private start(connection: Connection, request: StreamRequest): void {
    const { client } = connection;
    connection.timers.push(
      setInterval(() => {
        if (!connection.alive) {
          // No pong since the last ping: the peer is gone or stuck.
          client.close(StreamCloseCode.GoingAway, 'no pong', 'slow');
          return;
        }
        connection.alive = false;
        connection.ws.ping();
      }, this.config.stream.pingIntervalMs),
    );
    this.hub.attach(client, request.since?.entryId).catch((err: unknown) => {
      this.logger.warn({ err }, 'stream client could not be started');
      client.close(StreamCloseCode.TryAgainLater, 'could not start; reconnect later', 'catch_up');
    });
  }
}

/** The key of a `{"type":"auth","key":"…"}` message, or undefined for anything else. */
function authKeyOf(data: RawData): string | undefined {
  try {
    const bytes = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(new Uint8Array(data));
    const text = bytes.toString('utf8');
    const message: unknown = JSON.parse(text);
    if (
      typeof message === 'object' &&
      message !== null &&
      (message as { type?: unknown }).type === 'auth' &&
      typeof (message as { key?: unknown }).key === 'string'
    ) {
      return (message as { key: string }).key;
    }
  } catch {
    // not JSON: not an auth message
  }
  return undefined;
}
