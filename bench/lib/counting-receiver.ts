import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { LatencyHistogram } from './histogram';
import { nowMs } from './util';

/** ok: 204 at once; hang: never answer (the sender's timeout fires); error500: answer 500. */
export type ReceiverMode = 'ok' | 'hang' | 'error500';

export interface Arrival {
  /** Epoch ms of the first 2xx-answered request for this webhook-id. */
  at: number;
  /** The frame's `sim_sent_at`, when the body carried it. */
  sentAt?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A webhook endpoint that counts: first arrival per webhook-id, duplicates, bad signatures, and
 * end-to-end latency (frame sent by the simulator → request here, one clock since both live in the
 * bench process). Only requests it answers 2xx count as arrivals: those are the ones the sender
 * sees as delivered.
 */
export class CountingReceiver {
  mode: ReceiverMode = 'ok';
  /** Latency is recorded only for frames sent at or after this epoch ms (warm-up excluded). */
  measureFromMs = 0;
  readonly arrivals = new Map<string, Arrival>();
  readonly latency = new LatencyHistogram();
  duplicates = 0;
  badSignatures = 0;
  requests = 0;
  refused = 0;
  /** When set: the first request for each webhook-id it returns true for is answered 500. */
  failFirstAttempt?: (webhookId: string) => boolean;
  /** Record `(data.callId, type)` of each first arrival, in arrival order (ordering checks). */
  recordOrder = false;
  readonly order: { key: string; type: string }[] = [];
  /** Record the time of every request (rate-limit checks). */
  recordRequestTimes = false;
  readonly requestTimes: number[] = [];
  private readonly failedOnce = new Set<string>();
  private verifier?: Webhook;
  private server?: Server;
  /** Set when this receiver is a path on another receiver's server (same origin). */
  private host?: CountingReceiver;
  private readonly routes = new Map<string, CountingReceiver>();
  private readonly held = new Set<ServerResponse>();

  constructor(readonly name: string) {}

  /** Verify every request with this Standard Webhooks secret (the service signs; the baseline does not). */
  setSecret(secret: string): void {
    this.verifier = new Webhook(secret);
  }

  get url(): string {
    const server = this.host?.server ?? this.server;
    const address = server?.address() as AddressInfo | null | undefined;
    if (!address) {
      throw new Error(`receiver ${this.name} not started`);
    }
    return `http://127.0.0.1:${address.port}${this.path}`;
  }

  private get path(): string {
    return this.host ? `/hook/${this.name}` : '/hook';
  }

  get delivered(): number {
    return this.arrivals.size;
  }

  /**
   * Listens on a port of its own, or, given `host`, answers on a path of the host's server: the
   * same origin as the host, so a sender pooling per origin would share connections between them.
   */
  async start(host?: CountingReceiver): Promise<void> {
    if (host) {
      this.host = host;
      host.routes.set(this.path, this);
      return;
    }
    const server = createServer((req, res) => {
      const target = this.routes.get(req.url ?? '') ?? this;
      target.handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.host?.routes.delete(this.path);
    for (const res of this.held) {
      res.destroy();
    }
    this.held.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Releases requests held in `hang` mode (their sender has long timed out). */
  releaseHeld(): void {
    for (const res of this.held) {
      res.destroy();
    }
    this.held.clear();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const at = nowMs();
    this.requests++;
    if (this.recordRequestTimes && this.requestTimes.length < MAX_RECORDED) {
      this.requestTimes.push(at);
    }
    if (this.mode === 'hang') {
      this.held.add(res);
      res.once('close', () => this.held.delete(res));
      return;
    }
    if (this.mode === 'error500') {
      this.refused++;
      res.statusCode = 500;
      res.end();
      return;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const id = headerValue(req, 'webhook-id');
    if (id !== undefined && this.failFirstAttempt?.(id) && !this.failedOnce.has(id)) {
      this.failedOnce.add(id);
      this.refused++;
      res.statusCode = 500;
      res.end();
      return;
    }
    if (this.verifier) {
      try {
        this.verifier.verify(body, flatHeaders(req));
      } catch {
        this.badSignatures++;
        res.statusCode = 401;
        res.end();
        return;
      }
    }
    res.statusCode = 204;
    res.end();
    if (id === undefined) {
      return;
    }
    if (this.arrivals.has(id)) {
      this.duplicates++;
      return;
    }
    const sentAt = simSentAt(body);
    this.arrivals.set(id, { at, sentAt });
    if (this.recordOrder && this.order.length < MAX_RECORDED) {
      this.order.push(orderEntry(body));
    }
    if (sentAt !== undefined && sentAt >= this.measureFromMs) {
      this.latency.recordMs(at - sentAt);
    }
  }
}

/** Bounds what one receiver records, whatever a scenario sends. */
const MAX_RECORDED = 1_000_000;

function orderEntry(body: string): { key: string; type: string } {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed) && isRecord(parsed.data)) {
      const key = parsed.data.callId;
      return {
        key: typeof key === 'string' ? key : '',
        type: typeof parsed.type === 'string' ? parsed.type : '',
      };
    }
  } catch {
    // not JSON
  }
  return { key: '', type: '' };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) {
      flat[key] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return flat;
}

/** `body.raw.sim_sent_at`: the service puts the whole frame in `raw`, and so does the baseline. */
function simSentAt(body: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed) && isRecord(parsed.raw) && typeof parsed.raw.sim_sent_at === 'number') {
      return parsed.raw.sim_sent_at;
    }
  } catch {
    // not JSON: no latency sample
  }
  return undefined;
}
