import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the proxy passed on (or refused). */
export interface ProxiedRequest {
  method: string;
  /** Path and query, as asked. */
  path: string;
  /** The JWT in `X-Auth-Token`, if any. */
  token?: string;
  status: number;
}

/**
 * A loopback HTTP proxy in front of the simulator's REST API, for what the simulator cannot do:
 * Opentact refusing a token before its `exp` (revoked, or expired on a clock ahead of ours).
 * Every request is passed on and recorded; once `revokeTokensSeen()` is called, a request that
 * carries one of the tokens seen or issued so far (on the paths given) answers 401 as an expired JWT would,
 * while logins, and the tokens they issue afterwards, pass.
 */
export class OpentactRestProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly seen = new Set<string>();
  private readonly revoked = new Set<string>();
  private revokedFor: RegExp = /$^/;
  private server?: Server;

  /** `target` is the simulator's REST base, e.g. `http://127.0.0.1:1234/rest`. */
  constructor(private readonly target: string) {}

  /** The REST base to give the service (`OPENTACT_REST_URL`). */
  get restUrl(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) {
      throw new Error('proxy not started');
    }
    return `http://127.0.0.1:${address.port}${new URL(this.target).pathname}`;
  }

  /**
   * Tokens presented so far are refused from now on, on the paths `paths` matches (all by
   * default). Returns how many tokens that is.
   */
  revokeTokensSeen(paths: RegExp = /./): number {
    for (const token of this.seen) {
      this.revoked.add(token);
    }
    this.revokedFor = paths;
    return this.revoked.size;
  }

  /** Requests to `GET /auth` (logins) so far. */
  get logins(): number {
    return this.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/auth')).length;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      void this.handle(req, res).catch(() => {
        res.destroy();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return this;
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
    const header = req.headers['x-auth-token'];
    const token = Array.isArray(header) ? header[0] : header;
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    if (token !== undefined && this.revoked.has(token) && this.revokedFor.test(path)) {
      this.requests.push({ method, path, token, status: 401 });
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success: false, message: 'jwt expired' }));
      return;
    }
    if (token !== undefined) {
      this.seen.add(token);
    }
    const base = new URL(this.target);
    const upstream = await fetch(`${base.origin}${path}`, {
      method,
      headers: Object.fromEntries(
        Object.entries(req.headers)
          .filter(([name]) => !['host', 'connection', 'content-length'].includes(name))
          .map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]),
      ),
      body: chunks.length === 0 ? undefined : Buffer.concat(chunks),
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    this.requests.push({ method, path, token, status: upstream.status });
    const issued = issuedToken(body);
    if (issued !== undefined) {
      this.seen.add(issued);
    }
    res.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
    });
    res.end(body);
  }
}

/** The JWT a login answer carries (`payload.token`), if the body is one. */
function issuedToken(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { payload?: { token?: unknown } };
    return typeof parsed.payload?.token === 'string' ? parsed.payload.token : undefined;
  } catch {
    return undefined;
  }
}
