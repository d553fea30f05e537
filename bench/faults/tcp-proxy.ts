import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** forward: pass bytes (after `latencyMs`); blackhole: accept, read and drop, never answer. */
export type ProxyMode = 'forward' | 'blackhole';

interface Pair {
  client: Socket;
  upstream?: Socket;
}

/**
 * A TCP fault proxy (the Toxiproxy idea in ~100 lines of node:net): forwards to `upstreamPort`,
 * optionally delaying every chunk in each direction by `latencyMs` (order kept), and can cut every
 * connection and black-hole new ones until restored.
 */
export class TcpFaultProxy {
  latencyMs = 0;
  private mode: ProxyMode = 'forward';
  private server?: Server;
  private readonly pairs = new Set<Pair>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly upstreamPort: number,
    private readonly upstreamHost = '127.0.0.1',
  ) {}

  get port(): number {
    const address = this.server?.address();
    if (!address || typeof address === 'string') {
      throw new Error('proxy not started');
    }
    return address.port;
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }

  /** Resets every open connection and black-holes new ones until `restore()`. */
  cut(): void {
    this.mode = 'blackhole';
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
  }

  /** Forwards again; connections accepted while black-holed are reset so clients reconnect. */
  restore(): void {
    this.mode = 'forward';
    for (const pair of this.pairs) {
      if (!pair.upstream) {
        pair.client.destroy();
        this.pairs.delete(pair);
      }
    }
  }

  get connections(): number {
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    this.timers.forEach((t) => clearTimeout(t));
    this.timers.clear();
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private accept(client: Socket): void {
    const pair: Pair = { client };
    this.pairs.add(pair);
    client.on('error', () => undefined);
    client.once('close', () => {
      pair.upstream?.destroy();
      this.pairs.delete(pair);
    });
    if (this.mode === 'blackhole') {
      client.resume(); // read and drop
      return;
    }
    const upstream = createConnection({ port: this.upstreamPort, host: this.upstreamHost });
    pair.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.once('close', () => {
      client.destroy();
      this.pairs.delete(pair);
    });
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  /** Copies chunks from `from` to `to`, each after the current latency, in arrival order. */
  private pipe(from: Socket, to: Socket): void {
    const queue: { due: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      if (timer) {
        this.timers.delete(timer);
      }
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && queue[0].due <= now) {
        const { chunk } = queue.shift()!;
        if (!to.destroyed) {
          to.write(chunk);
        }
      }
      if (queue.length > 0) {
        timer = setTimeout(flush, queue[0].due - now);
        this.timers.add(timer);
      }
    };
    from.on('data', (chunk: Buffer) => {
      if (this.latencyMs <= 0 && queue.length === 0) {
        to.write(chunk);
        return;
      }
      queue.push({ due: Date.now() + this.latencyMs, chunk });
      if (!timer) {
        timer = setTimeout(flush, this.latencyMs);
        this.timers.add(timer);
      }
    });
  }
}
