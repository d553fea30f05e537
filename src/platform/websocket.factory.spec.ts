import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { hardMaxPayloadBytes, WebSocketFactory } from './websocket.factory';

const MIB = 1024 * 1024;
/** A text frame's bytes that are not UTF-8 (a lone continuation byte). */
const INVALID_UTF8 = Buffer.from([0x7b, 0x80, 0x7d]);

describe('hardMaxPayloadBytes', () => {
  it('is four times the frame limit, and at least 16 MiB', () => {
    expect(hardMaxPayloadBytes(1 * MIB)).toBe(16 * MIB);
    expect(hardMaxPayloadBytes(8 * MIB)).toBe(32 * MIB);
    expect(hardMaxPayloadBytes(1_000)).toBe(16 * MIB);
  });
});

describe('WebSocketFactory', () => {
  let server: WebSocketServer;
  let url: string;

  beforeEach(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('connection', (ws) => {
      ws.on('message', (data) => {
        const text = (data as Buffer).toString('utf8');
        if (text === 'invalid') {
          ws.send(INVALID_UTF8, { binary: false });
          return;
        }
        ws.send(Buffer.alloc(Number(text), 0x61), { binary: false });
      });
    });
  });

  afterEach(async () => {
    for (const client of server.clients) {
      client.terminate();
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function request(size: number): Promise<{ received?: number; error?: string }> {
    const ws = new WebSocketFactory({ maxFrameBytes: 1_000 }).create(url);
    return new Promise((resolve) => {
      ws.on('open', () => ws.send(String(size)));
      ws.on('message', (data: Buffer) => {
        resolve({ received: data.length });
        ws.close(1000);
      });
      let error: string | undefined;
      ws.on('error', (err: Error & { code?: string }) => (error = err.code));
      ws.on('close', () => resolve({ error }));
    });
  }

  it('lets frames above maxFrameBytes through so that ingest can quarantine them', async () => {
    await expect(request(64 * 1024)).resolves.toEqual({ received: 64 * 1024 });
    // The 5 MB frame that once cost the link.
    await expect(request(5_000_000)).resolves.toEqual({ received: 5_000_000 });
  });

  it('closes the socket (1009 to the peer) for frames above the hard cap', async () => {
    await expect(request(16 * MIB + 1)).resolves.toEqual({
      error: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    });
  });

  it('hands a text frame that is not UTF-8 over as its bytes, and keeps the socket open', async () => {
    const ws = new WebSocketFactory({ maxFrameBytes: 1_000 }).create(url);
    const received = await new Promise<{ data?: Buffer; isBinary?: boolean; closed?: number }>(
      (resolve) => {
        ws.on('open', () => ws.send('invalid'));
        ws.on('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary }));
        ws.on('close', (code: number) => resolve({ closed: code }));
      },
    );
    expect(received).toEqual({ data: INVALID_UTF8, isBinary: false });
    expect(ws.readyState).toBe(ws.OPEN);
    ws.close(1000);
  });
});
