import { request, type Dispatcher } from 'undici';
import type { OpentactConfig } from '../config/app-config';
import { OpentactAuthError, OpentactRequestError } from './opentact-errors';

/** One entry of `GET /event/subscription` (only the fields we rely on). */
export interface OpentactSubscription {
  uuid?: string;
  type: string;
  channel: string;
  is_active: boolean;
}

export interface OpentactRestClientOptions {
  /** Per-request bound for headers and for the body; keeps start-up from hanging on a dead API. */
  timeoutMs?: number;
  /** For tests (undici `MockAgent`); the global dispatcher otherwise. */
  dispatcher?: Dispatcher;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_SERVER_MESSAGE_CHARS = 200;

type HttpMethod = 'GET' | 'POST';

interface RawResponse {
  status: number;
  body: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeCause(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name;
  }
  return 'unknown error';
}

/** The `message` Opentact puts in error bodies, shortened and with the given secrets removed. */
function serverMessage(body: unknown, secrets: readonly string[]): string {
  if (!isRecord(body) || typeof body.message !== 'string') {
    return '';
  }
  let text = body.message.slice(0, MAX_SERVER_MESSAGE_CHARS);
  for (const secret of secrets) {
    if (secret !== '') {
      text = text.split(secret).join('[redacted]');
    }
  }
  return `: ${text}`;
}

function parseSubscription(value: unknown): OpentactSubscription | undefined {
  if (!isRecord(value) || typeof value.type !== 'string') {
    return undefined;
  }
  return {
    uuid: typeof value.uuid === 'string' ? value.uuid : undefined,
    type: value.type,
    channel: typeof value.channel === 'string' ? value.channel : '',
    is_active: value.is_active === true,
  };
}

/** Opentact's REST API: login and WSS event subscriptions. */
export class OpentactRestClient {
  private readonly timeoutMs: number;
  private readonly dispatcher?: Dispatcher;

  constructor(
    private readonly config: Pick<OpentactConfig, 'restUrl'>,
    options: OpentactRestClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.dispatcher = options.dispatcher;
  }

  /** `GET /auth` with HTTP Basic; resolves to the JWT in `payload.token`. */
  async login(email: string, password: string): Promise<string> {
    const basic = Buffer.from(`${email}:${password}`, 'utf8').toString('base64');
    let response: RawResponse;
    try {
      response = await this.call('GET', '/auth', { authorization: `Basic ${basic}` });
    } catch (error) {
      throw new OpentactAuthError(
        'OPENTACT_UNREACHABLE',
        `Opentact login failed: no answer (${describeCause(error)})`,
      );
    }
    const { status, body } = response;
    if (status === 401 || status === 403) {
      throw new OpentactAuthError(
        'OPENTACT_AUTH_REJECTED',
        `Opentact rejected the credentials (HTTP ${status})${serverMessage(body, [password, basic])}`,
        status,
      );
    }
    if (status < 200 || status >= 300) {
      throw new OpentactAuthError(
        'OPENTACT_AUTH_FAILED',
        `Opentact login failed (HTTP ${status})${serverMessage(body, [password, basic])}`,
        status,
      );
    }
    const token = isRecord(body) && isRecord(body.payload) ? body.payload.token : undefined;
    if (typeof token !== 'string' || token === '') {
      throw new OpentactAuthError(
        'OPENTACT_AUTH_BAD_RESPONSE',
        'Opentact login answered without payload.token',
        status,
      );
    }
    return token;
  }

  /**
   * `GET /event/subscription`. The wrapper is undocumented: both `{ success, payload: [...] }`
   * and a bare array are accepted; entries without a `type` are skipped.
   */
  async listSubscriptions(token: string): Promise<OpentactSubscription[]> {
    const body = await this.authorized(token, 'GET', '/event/subscription');
    const list = Array.isArray(body) ? body : isRecord(body) ? body.payload : undefined;
    if (!Array.isArray(list)) {
      throw new OpentactRequestError(
        'OPENTACT_BAD_RESPONSE',
        'Opentact subscription list is neither an array nor { payload: [...] }',
      );
    }
    return list.map(parseSubscription).filter((s): s is OpentactSubscription => s !== undefined);
  }

  /** `POST /event/subscription` for an active WSS subscription of `type`. */
  async createSubscription(token: string, type: string): Promise<OpentactSubscription> {
    const body = await this.authorized(token, 'POST', '/event/subscription', {
      type,
      channel: 'wss',
      is_active: true,
    });
    const created = parseSubscription(isRecord(body) ? body.payload : undefined);
    return created ?? { type, channel: 'wss', is_active: true };
  }

  /** Creates an active WSS subscription for each of `types` that has none; returns the new ones. */
  async ensureSubscriptions(
    token: string,
    types: readonly string[],
  ): Promise<OpentactSubscription[]> {
    const existing = await this.listSubscriptions(token);
    const active = new Set(
      existing.filter((s) => s.channel === 'wss' && s.is_active).map((s) => s.type),
    );
    const created: OpentactSubscription[] = [];
    for (const type of new Set(types)) {
      if (!active.has(type)) {
        created.push(await this.createSubscription(token, type));
      }
    }
    return created;
  }

  private async authorized(
    token: string,
    method: HttpMethod,
    path: string,
    json?: unknown,
  ): Promise<unknown> {
    let response: RawResponse;
    try {
      response = await this.call(method, path, { 'x-auth-token': token }, json);
    } catch (error) {
      throw new OpentactRequestError(
        'OPENTACT_UNREACHABLE',
        `Opentact ${method} ${path}: no answer (${describeCause(error)})`,
      );
    }
    if (response.status < 200 || response.status >= 300) {
      throw new OpentactRequestError(
        'OPENTACT_REQUEST_FAILED',
        `Opentact ${method} ${path} failed (HTTP ${response.status})${serverMessage(response.body, [token])}`,
        response.status,
      );
    }
    return response.body;
  }

  private async call(
    method: HttpMethod,
    path: string,
    headers: Record<string, string>,
    json?: unknown,
  ): Promise<RawResponse> {
    const res = await request(`${this.config.restUrl}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: json === undefined ? undefined : JSON.stringify(json),
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      dispatcher: this.dispatcher,
    });
    const text = await res.body.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.statusCode, body };
  }
}
