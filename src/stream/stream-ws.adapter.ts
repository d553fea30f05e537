import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { StreamHandshake } from './stream-handshake';
import { StreamGateway } from './stream.gateway';
import { AppConfig } from '../config/app-config';

type VerifyCallback = (
  result: boolean,
  code?: number,
  message?: string,
  headers?: OutgoingHttpHeaders,
) => void;

/**
 * The ws adapter with the stream's upgrade check: a wrong key, bad `types`, an unknown `since`
 * or too many clients are refused with an HTTP status and a message before any WebSocket exists.
 */
export class StreamWsAdapter extends WsAdapter {
  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override create(port: number, options: Record<string, unknown> = {}): unknown {
    return super.create(port, {
      ...options,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyCallback) => {
        this.admit(info.req).then(
          (refusal) => {
            if (!refusal) {
              done(true);
              return;
            }
            const headers: OutgoingHttpHeaders =
              refusal.status === 401
                ? { 'WWW-Authenticate': 'Bearer realm="opentact-bridge"' }
                : {};
            done(false, refusal.status, refusal.message, headers);
          },
          () => done(false, 503, 'the event log cannot be read right now; reconnect later'),
        );
      },
    });
  }

  private async admit(
    req: IncomingMessage,
  ): Promise<{ status: number; message: string } | undefined> {
    const max = this.app.get(AppConfig).stream.maxClients;
    if (this.app.get(StreamGateway).connectionCount >= max) {
      return { status: 503, message: `this process already serves ${max} stream clients` };
    }
    return this.app.get(StreamHandshake).verify(req);
  }
}
