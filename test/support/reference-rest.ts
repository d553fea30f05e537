import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One `/rest/event/subscription` request the bridge made. */
export interface SubscriptionRequest {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opentact's REST in front of the simulator's: `GET /rest/event/subscription` answers exactly the
 * bytes given (a documented list in one of its possible wrappers), a create answers the §5.2
 * shape for what was asked, and every other request is passed to the simulator unchanged. The
 * subscription requests are recorded.
 */
export class ReferenceRest {
  readonly subscriptionRequests: SubscriptionRequest[] = [];
  private server?: Server;

  constructor(
    private readonly upstreamRestUrl: string,
    private readonly subscriptionList: string,
  ) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        res.writeHead(502).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return this;
  }

  get restUrl(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (address === undefined) {
      throw new Error('the reference REST is not started');
    }
    return `http://127.0.0.1:${address.port}/rest`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    if (url.split('?')[0].startsWith('/rest/event/subscription')) {
      this.subscriptionRequests.push({ method, path: url, body: parse(body) });
      if (method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(this.subscriptionList);
        return;
      }
      const asked = parse(body) ?? {};
      const now = new Date().toISOString();
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          success: true,
          payload: { ...asked, uuid: randomUUID(), created_on: now, modified_on: now },
        }),
      );
      return;
    }
    const upstream = await fetch(`${this.upstreamRestUrl}${url.slice('/rest'.length)}`, {
      method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(
          (entry): entry is [string, string] =>
            typeof entry[1] === 'string' && entry[0] !== 'host' && entry[0] !== 'content-length',
        ),
      ),
      body: method === 'GET' || method === 'HEAD' ? undefined : body,
    });
    res
      .writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/json',
      })
      .end(Buffer.from(await upstream.arrayBuffer()));
  }
}
