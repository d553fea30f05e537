import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * How the receiver answers: `ok` verifies and answers 204 (401 to a bad signature); `flaky`
 * answers 503 to the first attempt of each webhook and then behaves as `ok`, so every webhook
 * needs one retry; `down` answers 500 to everything, so deliveries die once their retries run out.
 */
export type DemoReceiverMode = 'ok' | 'flaky' | 'down';

/** How many webhook ids the receiver remembers attempts for, and how many webhooks it keeps. */
const REMEMBERED = 1_000;

export interface ReceivedWebhook {
  id: string;
  type: string;
  verified: boolean;
  attempt: number;
  /** What the receiver answered. */
  status: number;
  receivedAt: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

export interface DemoReceiverOptions {
  port?: number;
  host?: string;
  /** The subscription secret; set after the subscription is created. */
  secret?: string;
  /** Default `ok`; can be changed while running (`mode`). */
  mode?: DemoReceiverMode;
  onWebhook?: (webhook: ReceivedWebhook) => void;
}

/** Totals since start (the kept list of webhooks is bounded; these are not lists). */
export interface DemoReceiverCounts {
  requests: number;
  verified: number;
  /** Requests answered with a non-2xx status. */
  refused: number;
}

/**
 * A customer's endpoint as a newcomer would write it: it verifies every request with the official
 * Standard Webhooks library, answers 204 to a valid one and 401 to anything else (unless told to
 * fail, see `DemoReceiverMode`). The demo prints
 * what arrives; tests use it as a real receiver.
 */
export class DemoReceiver {
  mode: DemoReceiverMode;
  /** The most recent webhooks (at most 1,000). */
  readonly received: ReceivedWebhook[] = [];
  readonly counts: DemoReceiverCounts = { requests: 0, verified: 0, refused: 0 };
  private server?: Server;
  private verifier?: Webhook;
  private readonly attempts = new Map<string, number>();

  constructor(private readonly options: DemoReceiverOptions = {}) {
    this.mode = options.mode ?? 'ok';
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
        const attempt = this.countAttempt(id);
        const status =
          this.mode === 'down'
            ? 500
            : this.mode === 'flaky' && attempt === 1
              ? 503
              : verified
                ? 204
                : 401;
        const webhook: ReceivedWebhook = {
          id,
          type: typeof parsed.type === 'string' ? parsed.type : '',
          verified,
          attempt,
          status,
          receivedAt: Date.now(),
          body: parsed,
          headers,
        };
        this.counts.requests++;
        this.counts.verified += verified ? 1 : 0;
        this.counts.refused += status >= 300 ? 1 : 0;
        this.received.push(webhook);
        if (this.received.length > REMEMBERED) {
          this.received.shift();
        }
        this.options.onWebhook?.(webhook);
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((resolve) =>
      this.server!.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve),
    );
  }

  /** This request's attempt number for its webhook id (ids beyond the last 1,000 are forgotten). */
  private countAttempt(id: string): number {
    const attempt = (this.attempts.get(id) ?? 0) + 1;
    this.attempts.delete(id);
    this.attempts.set(id, attempt);
    if (this.attempts.size > REMEMBERED) {
      this.attempts.delete(this.attempts.keys().next().value!);
    }
    return attempt;
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
