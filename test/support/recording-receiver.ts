import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedWebhook {
  /** The route it arrived on: `/<route>`. */
  route: string;
  webhookId: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  status: number;
  at: number;
}

export interface RouteBehaviour {
  status: number;
  delayMs?: number;
}

/**
 * A customer endpoint for end-to-end tests: each route (`/ok`, `/fail`, ...) answers with its
 * configured status after an optional delay, and every request is recorded, including those it
 * answered with an error. Unknown routes answer 404.
 */
export class RecordingReceiver {
  readonly received: RecordedWebhook[] = [];
  private server?: Server;
  private readonly routes = new Map<string, RouteBehaviour>();

  constructor(routes: Record<string, RouteBehaviour> = {}) {
    for (const [route, behaviour] of Object.entries(routes)) {
      this.routes.set(route, behaviour);
    }
  }

  setRoute(route: string, behaviour: RouteBehaviour): void {
    this.routes.set(route, behaviour);
  }

  url(route: string): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) {
      throw new Error('receiver not started');
    }
    return `http://127.0.0.1:${address.port}/${route}`;
  }

  /** Requests that arrived on `route` (any status). */
  on(route: string): RecordedWebhook[] {
    return this.received.filter((r) => r.route === route);
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const route = (req.url ?? '/').replace(/^\//, '').split('?')[0];
    const behaviour = this.routes.get(route) ?? { status: 404 };
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      // recorded with an empty body
    }
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    if (behaviour.delayMs) {
      await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    }
    this.received.push({
      route,
      webhookId: headers['webhook-id'] ?? '',
      headers,
      body,
      status: behaviour.status,
      at: Date.now(),
    });
    res.statusCode = behaviour.status;
    res.end();
  }
}

/** The simulator's id for the frame behind a webhook: `sim_id` (older frames) or `uuid`. */
export function simulatorId(webhook: RecordedWebhook): string | undefined {
  const raw = webhook.body.raw;
  if (typeof raw !== 'object' || raw === null) {
    return undefined;
  }
  const { sim_id: simId, uuid } = raw as { sim_id?: unknown; uuid?: unknown };
  if (typeof simId === 'string') {
    return simId;
  }
  return typeof uuid === 'string' ? uuid : undefined;
}
