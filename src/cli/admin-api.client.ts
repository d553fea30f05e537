import type {
  BridgeEvent,
  CreatedSubscription,
  Delivery,
  DeliveryListQuery,
  DeliveryPage,
  QuarantinePage,
  Readiness,
  ReplayInput,
  ReplayResult,
  RotatedSecret,
  ServiceStatus,
  Subscription,
  SubscriptionInput,
  SubscriptionPage,
  TestSent,
} from './admin-api.types';
import {
  type ApiFieldProblems,
  ApiError,
  ProtocolError,
  UnreachableError,
  UsageError,
} from './cli-errors';

/** A reply larger than this is refused: a quarantine page of 500 large frames fits, a runaway proxy does not. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface AdminApiClientOptions {
  /** The service's base URL, e.g. http://127.0.0.1:3000 (a path prefix is kept). */
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  userAgent: string;
  fetch?: typeof fetch;
  /** Called with one line per request and per answer (for --verbose); never given the key. */
  trace?: (line: string) => void;
  maxResponseBytes?: number;
}

export interface ApiReply<T> {
  status: number;
  body: T;
}

type QueryValue = string | number | undefined;

interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** `text` for /metrics; JSON otherwise. */
  as?: 'json' | 'text';
  /** Statuses besides 2xx whose body is a normal answer (503 for readiness). */
  alsoAccept?: number[];
}

/** Causes undici puts on `fetch failed`, in words a person can act on. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the service running, and on this address?)',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'the connection closed before an answer',
  EPROTO: 'TLS handshake failed (is this an http:// service?)',
};

/** HTTP header values: visible ASCII only, so a pasted newline cannot reach fetch's own error text. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/**
 * The admin API over HTTP: one method per operation, JSON in and out. Every error is one of the
 * named errors of cli-errors.ts; none of them, nor any trace line, carries the API key.
 */
export class AdminApiClient {
  readonly baseUrl: URL;
  private readonly fetchImpl: typeof fetch;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: AdminApiClientOptions) {
    this.baseUrl = parseBaseUrl(options.baseUrl);
    if (options.apiKey !== undefined && !HEADER_SAFE.test(options.apiKey)) {
      throw new UsageError(
        'the admin API key contains spaces or control characters; check OPENTACT_BRIDGE_API_KEY or --key',
      );
    }
    this.fetchImpl = options.fetch ?? fetch;
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  }

  /** The base URL without user info, for messages. */
  get displayUrl(): string {
    return displayUrl(this.baseUrl);
  }

  listSubscriptions(limit: number, cursor?: string): Promise<ApiReply<SubscriptionPage>> {
    return this.request('GET', '/v1/subscriptions', { query: { limit, cursor } });
  }

  getSubscription(id: string): Promise<ApiReply<Subscription>> {
    return this.request('GET', `/v1/subscriptions/${segment(id)}`);
  }

  createSubscription(input: SubscriptionInput): Promise<ApiReply<CreatedSubscription>> {
    return this.request('POST', '/v1/subscriptions', { body: input });
  }

  updateSubscription(id: string, input: SubscriptionInput): Promise<ApiReply<Subscription>> {
    return this.request('PATCH', `/v1/subscriptions/${segment(id)}`, { body: input });
  }

  deleteSubscription(id: string): Promise<ApiReply<unknown>> {
    return this.request('DELETE', `/v1/subscriptions/${segment(id)}`);
  }

  rotateSecret(id: string): Promise<ApiReply<RotatedSecret>> {
    return this.request('POST', `/v1/subscriptions/${segment(id)}/rotate-secret`);
  }

  sendTest(id: string): Promise<ApiReply<TestSent>> {
    return this.request('POST', `/v1/subscriptions/${segment(id)}/test`);
  }

  replay(subscriptionId: string, input: ReplayInput): Promise<ApiReply<ReplayResult>> {
    return this.request('POST', `/v1/subscriptions/${segment(subscriptionId)}/replay`, {
      body: input,
    });
  }

  listDeliveries(query: DeliveryListQuery): Promise<ApiReply<DeliveryPage>> {
    return this.request('GET', '/v1/deliveries', { query: { ...query } });
  }

  getDelivery(id: string): Promise<ApiReply<Delivery>> {
    return this.request('GET', `/v1/deliveries/${segment(id)}`);
  }

  retryDelivery(id: string): Promise<ApiReply<Delivery>> {
    return this.request('POST', `/v1/deliveries/${segment(id)}/retry`);
  }

  getEvent(id: string): Promise<ApiReply<BridgeEvent>> {
    return this.request('GET', `/v1/events/${segment(id)}`);
  }

  listQuarantine(limit: number, offset = 0): Promise<ApiReply<QuarantinePage>> {
    return this.request('GET', '/v1/quarantine', { query: { limit, offset } });
  }

  /** 200 when ready, 503 (with the same shape) when not: both are answers. */
  readiness(): Promise<ApiReply<Readiness>> {
    return this.request('GET', '/health/ready', { alsoAccept: [503] });
  }

  /** What every process of the service reports together (queues, connections, the last hour). */
  status(): Promise<ApiReply<ServiceStatus>> {
    return this.request('GET', '/v1/status');
  }

  /** The Prometheus text exposition. */
  metrics(): Promise<ApiReply<string>> {
    return this.request('GET', '/metrics', { as: 'text' });
  }

  async request<T>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiReply<T>> {
    const url = this.urlFor(path, options.query);
    const headers: Record<string, string> = {
      accept: options.as === 'text' ? 'text/plain' : 'application/json',
      'user-agent': this.options.userAgent,
    };
    if (this.options.apiKey !== undefined) {
      headers.authorization = `Bearer ${this.options.apiKey}`;
    }
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    this.options.trace?.(
      `> ${method} ${displayUrl(url)}${this.options.apiKey === undefined ? ' (no admin key)' : ' (authorization: Bearer <redacted>)'}`,
    );
    const started = Date.now();
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'manual',
      });
      text = await readBounded(response, this.maxResponseBytes);
    } catch (error) {
      if (error instanceof ProtocolError) {
        throw error;
      }
      throw new UnreachableError(this.displayUrl, networkReason(error, this.options.timeoutMs));
    }
    this.options.trace?.(
      `< ${[response.status, response.statusText].join(' ').trim()} in ${Date.now() - started} ms, ${Buffer.byteLength(text)} bytes`,
    );
    const ok =
      (response.status >= 200 && response.status < 300) ||
      !!options.alsoAccept?.includes(response.status);
    if (!ok) {
      throw apiError(response, text);
    }
    if (options.as === 'text') {
      return { status: response.status, body: text as T };
    }
    if (text === '') {
      return { status: response.status, body: undefined as T };
    }
    try {
      return { status: response.status, body: JSON.parse(text) as T };
    } catch {
      throw new ProtocolError(
        `${displayUrl(url)} answered ${response.status} with something that is not JSON; is ${this.displayUrl} the opentact-bridge service?`,
      );
    }
  }

  private urlFor(path: string, query: Record<string, QueryValue> = {}): URL {
    const url = new URL(this.baseUrl.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) {
        url.searchParams.set(name, String(value));
      }
    }
    return url;
  }
}

function parseBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `the service URL "${text}" is not a URL; expected e.g. http://127.0.0.1:3000`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `the service URL must start with http:// or https://, not ${url.protocol}//`,
    );
  }
  url.search = '';
  url.hash = '';
  return url;
}

/** A path segment: an id cannot climb out of its route (`../`) or add a query. */
function segment(id: string): string {
  if (id.trim() === '') {
    throw new UsageError('an id must not be empty');
  }
  return encodeURIComponent(id);
}

function displayUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href.replace(/\/$/, '');
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new ProtocolError(
      `the answer is ${declared} bytes, more than the ${maxBytes} this tool reads`,
    );
  }
  if (!response.body) {
    return '';
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    // fetch's body stream yields bytes; its type says `any`.
    const { done, value } = (await reader.read()) as
      { done: true; value?: undefined } | { done: false; value: Uint8Array };
    if (done) {
      break;
    }
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ProtocolError(`the answer is larger than the ${maxBytes} bytes this tool reads`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function networkReason(error: unknown, timeoutMs: number): string {
  // The timeout's reason is a DOMException, which is not an Error in every realm: read its name.
  const name =
    typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause =
    error instanceof Error
      ? (error.cause as { code?: unknown; message?: unknown } | undefined)
      : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code && NETWORK_REASONS[code]) {
    return NETWORK_REASONS[code];
  }
  if (code) {
    return code;
  }
  if (cause?.message === 'bad port') {
    return 'fetch refuses this port (one of its blocked ports); run the service on another';
  }
  if (typeof cause?.message === 'string') {
    return cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}

function apiError(response: Response, text: string): ApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const body =
    typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  const location = response.headers.get('location');
  const message =
    response.status >= 300 && response.status < 400 && location
      ? `redirected to ${location}; pass the service's own address as --url`
      : body
        ? messageOf(body.message)
        : undefined;
  const fallback = text.trim() === '' ? '(no message)' : snippet(text);
  return new ApiError(
    response.status,
    response.statusText || (typeof body?.error === 'string' ? body.error : ''),
    message ?? fallback,
    body ? fieldProblems(body.errors) : [],
    parsed ?? text,
  );
}

function messageOf(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return value.join('; ');
  }
  return undefined;
}

function fieldProblems(value: unknown): ApiFieldProblems[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.flatMap((entry: unknown) => {
    const { field, problems } = (entry ?? {}) as { field?: unknown; problems?: unknown };
    return typeof field === 'string' && Array.isArray(problems)
      ? [{ field, problems: problems.filter((p): p is string => typeof p === 'string') }]
      : [];
  });
}

function snippet(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}
