import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  type: string;
  verified: boolean;
  attempt: number;
  receivedAt: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

export interface DemoReceiverOptions {
  port?: number;
  host?: string;
  /** The subscription secret; set after the subscription is created. */
  secret?: string;
  onWebhook?: (webhook: ReceivedWebhook) => void;
}

/**
 * A customer's endpoint as a newcomer would write it: it verifies every request with the official
 * Standard Webhooks library, answers 204 to a valid one and 401 to anything else. The demo prints
 * what arrives; tests use it as a real receiver.
 */
export class DemoReceiver {
  private server?: Server;
  private verifier?: Webhook;
  readonly received: ReceivedWebhook[] = [];
  private readonly attempts = new Map<string, number>();

  constructor(private readonly options: DemoReceiverOptions = {}) {
    if (options.secret) {
      this.setSecret(options.secret);
    }
  }

  setSecret(secret: string): void {
    this.verifier = new Webhook(secret);
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) {
      throw new Error('receiver not started');
    }
    return `http://${this.options.host ?? '127.0.0.1'}:${address.port}/webhooks`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void readBody(req).then((body) => {
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.join(', ') : (v ?? ''),
          ]),
        );
        let verified = false;
        try {
          this.verifier?.verify(body, headers);
          verified = this.verifier !== undefined;
        } catch {
          verified = false;
        }
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(body) as Record<string, unknown>;
        } catch {
          // answered with 400 below
        }
        const id = headers['webhook-id'] ?? '';
        const attempt = (this.attempts.get(id) ?? 0) + 1;
        this.attempts.set(id, attempt);
        const webhook: ReceivedWebhook = {
          id,
          type: typeof parsed.type === 'string' ? parsed.type : '',
          verified,
          attempt,
          receivedAt: Date.now(),
          body: parsed,
          headers,
        };
        this.received.push(webhook);
        this.options.onWebhook?.(webhook);
        res.statusCode = verified ? 204 : 401;
        res.end();
      });
    });
    await new Promise<void>((resolve) =>
      this.server!.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve),
    );
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
