import WebSocket from 'ws';
import { LatencyHistogram } from './histogram';
import { nowMs } from './util';

/** Bounds the ids one client remembers, whatever a scenario sends. */
const MAX_IDS = 1_000_000;
const ID = /^\{"id":"([^"]+)"/;
const SENT_AT = /"sim_sent_at":(\d+)/;

/**
 * A GET /v1/stream consumer for the benchmark: counts messages, duplicates and the latency from the
 * simulator sending the frame to this client reading it (one clock: both live in the bench
 * process). Reads the id and `sim_sent_at` with two regular expressions instead of parsing each
 * 2 KB body, so twenty clients do not turn the bench process into the bottleneck.
 */
export class BenchStreamClient {
  readonly latency = new LatencyHistogram();
  received = 0;
  duplicates = 0;
  closed = false;
  closeCode?: number;
  private readonly ids = new Set<string>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => this.onMessage(data));
    ws.on('close', (code: number) => {
      this.closed = true;
      this.closeCode = code;
    });
  }

  static connect(baseUrl: string, key: string, query = ''): Promise<BenchStreamClient> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/v1/stream${query ? `?${query}` : ''}`;
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${key}` },
      perMessageDeflate: false,
    });
    const client = new BenchStreamClient(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('stream client did not open within 10 s'));
      }, 10_000);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`stream upgrade refused: ${res.statusCode}`));
      });
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** How many of `ids` this client never received. */
  missing(ids: string[]): number {
    return ids.filter((id) => !this.ids.has(id)).length;
  }

  close(): Promise<void> {
    if (this.closed) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2_000);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close(1000);
    });
  }

  private onMessage(data: WebSocket.RawData): void {
    const at = nowMs();
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.isBuffer(data)
        ? data.toString('utf8')
        : Buffer.from(new Uint8Array(data)).toString('utf8');
    const id = ID.exec(text)?.[1];
    if (id === undefined) {
      return;
    }
    if (this.ids.has(id)) {
      this.duplicates++;
      return;
    }
    if (this.ids.size < MAX_IDS) {
      this.ids.add(id);
    }
    this.received++;
    const sentAt = SENT_AT.exec(text)?.[1];
    if (sentAt !== undefined) {
      this.latency.recordMs(at - Number(sentAt));
    }
  }
}
