import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { types } from 'node:util';
import { buildConnector, type Dispatcher, Pool } from 'undici';
import { SsrfBlockedError, SsrfGuard } from '../webhook-security/ssrf-guard';

export type HttpErrorKind =
  | 'timeout'
  | 'connect'
  | 'dns'
  | 'ssrf'
  | 'tls'
  | 'reset'
  | 'other'
  /** Not the receiver's doing: the attempt could not be made (a secret that cannot sign). */
  | 'internal';

/** One POST as it happened; a network failure is data here, not an exception. */
export interface HttpAttemptResult {
  statusCode?: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** At most maxResponseBytes of the body, decoded as UTF-8. */
  body: string;
  bodyTruncated: boolean;
  durationMs: number;
  error?: { kind: HttpErrorKind; message: string };
}

export interface WebhookHttpClientOptions {
  timeoutMs: number;
  connectionsPerOrigin: number;
  maxResponseBytes: number;
  allowCidrs: string[];
  userAgent: string;
  /** Resolves a host name to all its addresses; replaceable so tests can play DNS answers. */
  lookup?: (hostname: string) => Promise<LookupAddress[]>;
  /** Pools held at most (10,000 unless given); beyond it the least recently used is closed. */
  maxPools?: number;
}

/** undici's default connect timeout; a shorter delivery timeout lowers it. */
const MAX_CONNECT_TIMEOUT_MS = 10_000;
/** A pool unused this long is closed (its keep-alive sockets would have closed by then anyway). */
const POOL_IDLE_MS = 5 * 60_000;
const POOL_SWEEP_MS = 60_000;
const MAX_POOLS = 10_000;

interface PoolEntry {
  origin: string;
  pool: Pool;
  lastUsedMs: number;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);
const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'HOSTNAME_MISMATCH',
]);

async function lookupAll(hostname: string): Promise<LookupAddress[]> {
  return dnsLookup(hostname, { all: true });
}

/**
 * Errors from Node core and undici can come from another realm (jest's VM context, worker
 * threads), where `instanceof Error` is false; nothing here may depend on it.
 */
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

function errorCode(error: unknown): string | undefined {
  if (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string'
  ) {
    return error.code;
  }
  return undefined;
}

function kindOf(error: unknown): HttpErrorKind | undefined {
  const code = errorCode(error);
  if (error instanceof SsrfBlockedError || code === 'SSRF_BLOCKED') {
    return 'ssrf';
  }
  // AbortSignal.timeout rejects with a DOMException named TimeoutError.
  if (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    error.name === 'TimeoutError'
  ) {
    return 'timeout';
  }
  if (code === undefined) {
    return undefined;
  }
  if (TIMEOUT_CODES.has(code)) {
    return 'timeout';
  }
  if (DNS_CODES.has(code)) {
    return 'dns';
  }
  if (CONNECT_CODES.has(code)) {
    return 'connect';
  }
  if (RESET_CODES.has(code)) {
    return 'reset';
  }
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) {
    return 'tls';
  }
  return undefined;
}

/** Names a failure by what the operator can do about it; looks through wrapped causes. */
function describeError(error: unknown): NonNullable<HttpAttemptResult['error']> {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    const kind = kindOf(current);
    if (kind !== undefined) {
      return { kind, message: messageOf(current) };
    }
    current = isError(current) ? current.cause : undefined;
  }
  return { kind: 'other', message: messageOf(error) };
}

function messageOf(error: unknown): string {
  if (!isError(error)) {
    return typeof error === 'object' && error !== null && 'message' in error
      ? String(error.message)
      : String(error);
  }
  const code = errorCode(error);
  // The SSRF reason already reads as a sentence; other codes are worth seeing in attempt logs.
  return code !== undefined && code !== 'SSRF_BLOCKED' && !error.message.includes(code)
    ? `${code}: ${error.message}`
    : error.message;
}

function flattenHeaders(
  raw: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) {
      flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return flat;
}

/**
 * Reads at most `limit` bytes, then stops. Leaving the loop early destroys the stream, which
 * closes that one connection: cheaper than draining an unknown amount from a receiver that
 * answers with megabytes.
 */
async function readCapped(
  body: AsyncIterable<Buffer>,
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body) {
    const room = limit - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      size += room;
      truncated = true;
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  // A cut inside a multi-byte character decodes to U+FFFD rather than failing.
  return { text: Buffer.concat(chunks, size).toString('utf8'), truncated };
}

/**
 * Sends webhook POSTs. Every connection goes through `connect` below, which resolves the host
 * itself and dials only an address the SSRF guard accepted, so a DNS answer that changes between
 * check and connect (rebinding) cannot reach an internal address. Redirects are not followed
 * (a plain undici Pool does not follow them), so a 3xx cannot point us anywhere either.
 *
 * Connections are pooled per caller-given key (the subscription), not per origin: a subscription
 * whose path hangs fills its own pool only, and another subscription on the same host keeps its
 * connections. Each pool holds at most `connectionsPerOrigin` sockets.
 *
 * Register it with `useFactory` from the delivery config. Its constructor takes options, not
 * providers, so it needs no Nest decorator; leaving @nestjs/common out also keeps it loadable in
 * jest, which cannot require that ESM-only package. Nest still calls `onApplicationShutdown`.
 */
export class WebhookHttpClient {
  private readonly pools = new Map<string, PoolEntry>();
  private readonly guard: SsrfGuard;
  private readonly dial: buildConnector.connector;
  private readonly lookup: (hostname: string) => Promise<LookupAddress[]>;
  private readonly sweeper: NodeJS.Timeout;
  private closing?: Promise<void>;

  constructor(private readonly options: WebhookHttpClientOptions) {
    if (
      !(options.timeoutMs > 0) ||
      !(options.maxResponseBytes >= 0) ||
      !(options.connectionsPerOrigin > 0)
    ) {
      throw new RangeError(
        'timeoutMs and connectionsPerOrigin must be positive, maxResponseBytes >= 0',
      );
    }
    this.guard = new SsrfGuard(options.allowCidrs);
    this.lookup = options.lookup ?? lookupAll;
    // With a custom connect function undici ignores the pool's connectTimeout; the connector
    // built here carries it instead.
    this.dial = buildConnector({ timeout: Math.min(options.timeoutMs, MAX_CONNECT_TIMEOUT_MS) });
    this.sweeper = setInterval(() => this.sweep(Date.now()), POOL_SWEEP_MS);
    this.sweeper.unref();
  }

  /** Pools currently open (for tests and metrics). */
  get poolCount(): number {
    return this.pools.size;
  }

  /**
   * One POST. `poolKey` names the connection pool (the subscription id); without it, requests
   * share a pool per origin.
   */
  async post(
    url: string,
    headers: Record<string, string>,
    body: string,
    poolKey?: string,
  ): Promise<HttpAttemptResult> {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      // Callers pass endpoint URLs that passed SsrfGuard.checkUrl at creation.
      throw new TypeError(`webhook URL must be http or https, got ${target.protocol}`);
    }
    const requestHeaders: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': this.options.userAgent,
    };
    for (const name of Object.keys(headers)) {
      requestHeaders[name.toLowerCase()] = headers[name];
    }
    const pool = this.poolFor(poolKey ?? target.origin, target.origin);

    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    let response: Dispatcher.ResponseData;
    try {
      response = await pool.request({
        method: 'POST',
        path: `${target.pathname}${target.search}`,
        headers: requestHeaders,
        body,
        // headersTimeout and bodyTimeout reset on every byte; this bounds the whole attempt,
        // DNS, connect and the wait for a free connection included.
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      return {
        headers: {},
        body: '',
        bodyTruncated: false,
        durationMs: elapsed(),
        error: describeError(error),
      };
    }

    const result: HttpAttemptResult = {
      statusCode: response.statusCode,
      headers: flattenHeaders(response.headers),
      body: '',
      bodyTruncated: false,
      durationMs: 0,
    };
    try {
      // Nothing to read (204, or an empty body announced): release the connection at once.
      if (response.statusCode === 204 || response.headers['content-length'] === '0') {
        await response.body.dump();
        result.durationMs = elapsed();
        return result;
      }
      const read = await readCapped(
        response.body as AsyncIterable<Buffer>,
        this.options.maxResponseBytes,
      );
      result.body = read.text;
      result.bodyTruncated = read.truncated;
    } catch (error) {
      result.error = describeError(error);
    }
    result.durationMs = elapsed();
    return result;
  }

  /** Closes the pool of a key that will not be used again (a deleted subscription). */
  forget(poolKey: string): void {
    const entry = this.pools.get(poolKey);
    if (entry) {
      this.pools.delete(poolKey);
      entry.pool.close().catch(() => undefined);
    }
  }

  private poolFor(key: string, origin: string): Pool {
    const now = Date.now();
    const entry = this.pools.get(key);
    if (entry && entry.origin === origin) {
      entry.lastUsedMs = now;
      return entry.pool;
    }
    if (entry) {
      // The subscription moved to another origin: its old pool closes once its requests end.
      this.forget(key);
    }
    if (this.pools.size >= (this.options.maxPools ?? MAX_POOLS)) {
      this.evictLeastRecentlyUsed();
    }
    const pool = new Pool(origin, {
      connect: this.connect,
      connections: this.options.connectionsPerOrigin,
      // POST is not idempotent; undici would not pipeline it anyway, so say so.
      pipelining: 1,
      // The 300 s defaults would let one stalled receiver hold a worker slot for five minutes.
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
    });
    this.pools.set(key, { origin, pool, lastUsedMs: now });
    return pool;
  }

  private sweep(nowMs: number): void {
    for (const [key, entry] of this.pools) {
      if (nowMs - entry.lastUsedMs > POOL_IDLE_MS) {
        this.forget(key);
      }
    }
  }

  private evictLeastRecentlyUsed(): void {
    let oldest: [string, PoolEntry] | undefined;
    for (const item of this.pools) {
      if (!oldest || item[1].lastUsedMs < oldest[1].lastUsedMs) {
        oldest = item;
      }
    }
    if (oldest) {
      this.forget(oldest[0]);
    }
  }

  /** Closes idle connections and waits for requests in flight. Safe to call more than once. */
  close(): Promise<void> {
    clearInterval(this.sweeper);
    this.closing ??= Promise.all([...this.pools.values()].map((e) => e.pool.close())).then(
      () => undefined,
    );
    return this.closing;
  }

  /** Nest lifecycle hook, so the provider closes its sockets on shutdown. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** undici's connect hook: resolve, check every address, then dial only checked ones. */
  private readonly connect: buildConnector.connector = (opts, callback) => {
    this.resolveChecked(opts.hostname).then(
      (addresses) => {
        // Keep SNI and certificate verification on the name, not the address we dial.
        const servername =
          opts.servername || (isIP(opts.hostname) === 0 ? opts.hostname : undefined);
        this.dialInTurn({ ...opts, servername }, addresses, callback);
      },
      (error: unknown) => {
        callback(isError(error) ? error : new Error(String(error)), null);
      },
    );
  };

  /**
   * Dials the checked addresses in order until one accepts, so a dual-stack receiver is still
   * reached when one family is unroutable from here. Only "could not connect" moves on; the
   * overall request timeout bounds the whole walk.
   */
  private dialInTurn(
    opts: buildConnector.Options,
    addresses: string[],
    callback: buildConnector.Callback,
  ): void {
    const [address, ...rest] = addresses;
    this.dial({ ...opts, hostname: address }, (...args) => {
      const [error] = args;
      if (error !== null && rest.length > 0 && kindOf(error) === 'connect') {
        this.dialInTurn(opts, rest, callback);
        return;
      }
      callback(...args);
    });
  }

  /**
   * The addresses that may be dialled for `hostname`. Node's net skips `lookup` for IP literals,
   * so literals are checked here too. A name is refused if ANY of its addresses is blocked: a
   * receiver that mixes public and internal records is either misconfigured or probing, and
   * falling back to the next address would otherwise reach the internal one.
   */
  private async resolveChecked(hostname: string): Promise<string[]> {
    if (isIP(hostname) !== 0) {
      const verdict = this.guard.check(hostname);
      if (!verdict.allowed) {
        throw new SsrfBlockedError(hostname, verdict.reason);
      }
      return [hostname];
    }
    const addresses = (await this.lookup(hostname)).map(({ address }) => address);
    if (addresses.length === 0) {
      throw Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' });
    }
    for (const address of addresses) {
      const verdict = this.guard.check(address);
      if (!verdict.allowed) {
        throw new SsrfBlockedError(hostname, verdict.reason);
      }
    }
    return addresses;
  }
}
