import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

/** What the server answers to an `auth` frame: text (a JSON ack), or nothing at all. */
export type AckScript = (connection: number) => string | undefined;

/**
 * A bare Opentact for the tests that need exact bytes on the wire, which the simulator (built to
 * send well-formed frames) will not produce: `GET /rest/auth` issues a JWT-shaped token and counts
 * logins, and the WSS on the same port answers each `auth` frame with whatever `ack` returns, then
 * sends the test's frames byte for byte (text frames are not checked for valid UTF-8 here).
 */
export class LoopbackOpentact {
  logins = 0;
  connections = 0;
  /** The `payload` of every auth frame received, in order. */
  readonly authTokens: string[] = [];
  private readonly authed = new Set<WebSocket>();
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private port = 0;

  constructor(private ack: AckScript = () => undefined) {
    this.http = createServer((req, res) => this.rest(req, res));
    this.wss = new WebSocketServer({ server: this.http });
    this.wss.on('connection', (ws) => this.onConnection(ws));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    this.port = (this.http.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const ws of this.wss.clients) {
      ws.terminate();
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  get restUrl(): string {
    return `http://127.0.0.1:${this.port}/rest`;
  }

  get wssUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Open sockets whose auth frame was answered. */
  get authenticated(): number {
    return this.authed.size;
  }

  setAck(ack: AckScript): void {
    this.ack = ack;
  }

  /** Sends `data` as one text frame (bytes as given) to every socket that sent its auth frame. */
  sendText(data: Buffer | string): void {
    for (const ws of this.authed) {
      ws.send(data, { binary: false });
    }
  }

  private onConnection(ws: WebSocket): void {
    const connection = ++this.connections;
    ws.on('close', () => this.authed.delete(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        return;
      }
      let frame: unknown;
      try {
        frame = JSON.parse(toText(data));
      } catch {
        return;
      }
      const record = frame as { type?: unknown; payload?: unknown };
      if (record.type !== 'auth' || typeof record.payload !== 'string') {
        return;
      }
      this.authTokens.push(record.payload);
      const ack = this.ack(connection);
      this.authed.add(ws);
      if (ack !== undefined) {
        ws.send(ack);
      }
    });
  }

  private rest(req: IncomingMessage, res: ServerResponse): void {
    if (req.url?.split('?')[0] !== '/rest/auth' || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"success":false}');
      return;
    }
    this.logins++;
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ success: true, payload: { token: fakeJwt(this.logins) } }));
  }
}

function toText(data: RawData): string {
  if (Array.isArray(data)) {
    return Buffer.concat(data).toString('utf8');
  }
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/** A JWT-shaped token (unsigned) expiring in an hour; `n` makes each login's token distinct. */
export function fakeJwt(n: number): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'loopback', n, exp })}.c2lnbmF0dXJl`;
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedLoopbackPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
