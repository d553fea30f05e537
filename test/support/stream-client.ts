import type { INestApplicationContext } from '@nestjs/common';
import WebSocket from 'ws';
import { StreamHub } from '../../src/stream/stream-hub.service';
import { waitFor } from './harness';

/** What a stream connection attempt ended in, when it did not open. */
export interface UpgradeRefusal {
  status: number;
  body: string;
}

/**
 * A test client of GET /v1/stream: records every message and how the socket closed. `open`
 * resolves once the upgrade succeeded, or to the HTTP refusal.
 */
export class TestStreamClient {
  readonly messages: string[] = [];
  closeCode?: number;
  closeReason?: string;
  readonly ws: WebSocket;
  private readonly opened: Promise<UpgradeRefusal | undefined>;

  constructor(baseUrl: string, query = '', headers: Record<string, string> = {}) {
    const url = `${baseUrl.replace(/^http/, 'ws')}/v1/stream${query ? `?${query}` : ''}`;
    this.ws = new WebSocket(url, { headers, perMessageDeflate: false });
    this.ws.on('message', (data: WebSocket.RawData) => {
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(new Uint8Array(data));
      this.messages.push(bytes.toString('utf8'));
    });
    this.ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    this.opened = new Promise((resolve) => {
      this.ws.once('open', () => resolve(undefined));
      this.ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      this.ws.once('error', () => resolve({ status: 0, body: 'connection error' }));
    });
  }

  open(): Promise<UpgradeRefusal | undefined> {
    return this.opened;
  }

  /** Parsed messages (webhook bodies). */
  events(): { id: string; type: string }[] {
    return this.messages.map((m) => JSON.parse(m) as { id: string; type: string });
  }

  ids(): string[] {
    return this.events().map((e) => e.id);
  }

  auth(key: string): void {
    this.ws.send(JSON.stringify({ type: 'auth', key }));
  }

  async waitForCount(count: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.messages.length >= count, timeoutMs, `${count} stream messages`);
  }

  async waitForClose(timeoutMs = 10_000): Promise<number> {
    return waitFor(() => this.closeCode, timeoutMs, 'the stream to close');
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Waits until `app` feeds exactly `count` stream clients live. A client's socket opens before the
 * server has attached it (the attach reads the log's last entry), so a test that emits right after
 * `open()` could emit before "now" for that client.
 */
export async function waitForLiveClients(
  app: INestApplicationContext,
  count: number,
  timeoutMs = 10_000,
): Promise<void> {
  const hub = app.get(StreamHub);
  await waitFor(() => hub.liveClientCount === count, timeoutMs, `${count} live stream clients`);
}
