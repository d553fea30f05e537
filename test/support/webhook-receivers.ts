import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../scripts/redis-provider';

/** One request as the receiver saw it. */
export interface RecordedRequest {
  /** 0-based position among every request this receiver got. */
  index: number;
  method: string;
  path: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The raw body, exactly as sent (signatures are computed over these bytes). */
  body: string;
  /** Epoch ms when the request's headers arrived, before its body was read. */
  at: number;
}

/** How to answer one request. */
export interface ScriptedReply {
  /** Default 200. */
  status?: number;
  /** An array value sends the header once per element (as Set-Cookie is). */
  headers?: Record<string, string | string[]>;
  body?: string;
  /** Announce the whole body, send its first half, then drop the connection. */
  dropMidBody?: boolean;
  /** Send the body in these parts, each written once the one before has been flushed. */
  bodyParts?: string[];
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer: the connection is held open until the receiver stops. */
  hang?: boolean;
}

export type ReplyScript = ScriptedReply | ((request: RecordedRequest) => ScriptedReply);

/**
 * A customer endpoint whose answers a test scripts: a default reply (fixed, or computed from the
 * request), optionally preceded by one-shot replies used in order. Every request is recorded with
 * its headers, body and arrival time, whatever the reply.
 */
export class ProgrammableReceiver {
  readonly requests: RecordedRequest[] = [];
  /** TCP connections accepted so far (keep-alive reuse, or none at all for a refused target). */
  connections = 0;
  private script: ReplyScript;
  private readonly oneShot: ScriptedReply[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private server?: Server;

  /**
   * `keepAliveTimeoutMs` is what the server announces (`keep-alive: timeout=`); undici does not
   * reuse a connection announced for under 2 s, so tests of connection reuse pass 5 s or more.
   */
  constructor(
    script: ReplyScript = { status: 200 },
    private readonly options: { keepAliveTimeoutMs?: number } = {},
  ) {
    this.script = script;
  }

  /** The reply for every later request (after any one-shot replies are used up). */
  respondWith(script: ReplyScript): void {
    this.script = script;
  }

  /** Replies used once each, in order, before the default one. */
  replyOnce(...replies: ScriptedReply[]): void {
    this.oneShot.push(...replies);
  }

  get port(): number {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) {
      throw new Error('receiver not started');
    }
    return address.port;
  }

  /** `http://127.0.0.1:<port><path>`; pass another host (e.g. `localhost`) to name it differently. */
  url(path = '/hook', host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  /** Requests carrying this webhook-id, in arrival order. */
  forWebhook(id: string): RecordedRequest[] {
    return this.requests.filter((r) => r.headers['webhook-id'] === id);
  }

  webhookIds(): string[] {
    return this.requests.map((r) => r.headers['webhook-id'] ?? '');
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', () => {
      this.connections++;
    });
    // Short by default: a stop() mid-test closes every socket anyway.
    server.keepAliveTimeout = this.options.keepAliveTimeoutMs ?? 1_000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const timer of this.timers) {
      clearTimeout(timer);
    }
    this.timers.clear();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Called for every request once its reply is chosen (subclasses keep their own view). */
  protected recorded(_request: RecordedRequest, _reply: ScriptedReply): void {}

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const at = Date.now();
    void readBody(req).then((body) => {
      const request: RecordedRequest = {
        index: this.requests.length,
        method: req.method ?? '',
        path: req.url ?? '',
        headers: flatten(req.headers),
        body,
        at,
      };
      this.requests.push(request);
      const reply =
        this.oneShot.shift() ??
        (typeof this.script === 'function' ? this.script(request) : this.script);
      this.recorded(request, reply);
      if (reply.hang) {
        return;
      }
      const send = (): void => {
        if (res.writableEnded || res.destroyed) {
          return;
        }
        const body = Buffer.from(reply.body ?? '');
        if (reply.dropMidBody) {
          res.writeHead(reply.status ?? 200, { ...reply.headers, 'content-length': body.length });
          res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
          return;
        }
        res.writeHead(reply.status ?? 200, reply.headers ?? {});
        if (reply.bodyParts) {
          const parts = [...reply.bodyParts];
          const writeNext = (): void => {
            const part = parts.shift();
            if (part === undefined) {
              res.end();
              return;
            }
            // The next part goes out only after this one reached the socket: separate reads.
            res.write(part, () => {
              const timer = setTimeout(() => {
                this.timers.delete(timer);
                writeNext();
              }, 20);
              this.timers.add(timer);
            });
          };
          writeNext();
          return;
        }
        res.end(body);
      };
      if (reply.delayMs && reply.delayMs > 0) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          send();
        }, reply.delayMs);
        this.timers.add(timer);
      } else {
        send();
      }
    });
  }
}

/** Starts `count` receivers with the same default reply. */
export async function startReceivers(
  count: number,
  script?: ReplyScript,
): Promise<ProgrammableReceiver[]> {
  return Promise.all(Array.from({ length: count }, () => new ProgrammableReceiver(script).start()));
}

/** A port on 127.0.0.1 that nothing listens on (it was bound, then released). */
export const closedPort = freePort;

function flatten(raw: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) {
      out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
