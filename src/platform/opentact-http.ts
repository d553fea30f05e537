import { request, type Dispatcher } from 'undici';
import type { OpentactConfig } from '../config/app-config';
import { OpentactRequestError } from './opentact-errors';

export interface OpentactRestClientOptions {
  /** Per-request bound for headers and for the body; keeps start-up from hanging on a dead API. */
  timeoutMs?: number;
  /** For tests (undici `MockAgent`); the global dispatcher otherwise. */
  dispatcher?: Dispatcher;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_SERVER_MESSAGE_CHARS = 200;

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * Answers meaning "no such endpoint or method" for the undocumented update and remove calls
 * (reference §5.3): the client stops using that call. A 404 may also mean the entry is gone.
 */
const UNSUPPORTED_STATUSES = new Set([404, 405, 501]);

export interface RawResponse {
  status: number;
  body: unknown;
}

/** A value `optional` returns for an undocumented call the server does not have. */
export const NOT_SUPPORTED = Symbol('NOT_SUPPORTED');

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeCause(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name;
  }
  return 'unknown error';
}

/** `success: false` in the spellings a JSON API uses for it: false, "false", 0, "0". */
function saysFailure(body: unknown): boolean {
  if (!isRecord(body)) {
    return false;
  }
  for (const [key, value] of Object.entries(body)) {
    if (key.toLowerCase() !== 'success') {
      continue;
    }
    if (value === false || value === 0) {
      return true;
    }
    if (typeof value === 'string' && ['false', '0'].includes(value.trim().toLowerCase())) {
      return true;
    }
  }
  return false;
}

/** The `message` Opentact puts in error bodies, shortened and with the given secrets removed. */
export function serverMessage(body: unknown, secrets: readonly string[]): string {
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

/**
 * The HTTP side of Opentact's REST API shared by its clients: one bounded JSON request, the
 * `x-auth-token` calls with their refusals (non-2xx and `success: false`) as
 * `OpentactRequestError`, and the undocumented calls whose absence is an answer, not an error.
 */
export class OpentactHttp {
  private readonly timeoutMs: number;
  private readonly dispatcher?: Dispatcher;

  constructor(
    private readonly config: Pick<OpentactConfig, 'restUrl'>,
    options: OpentactRestClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.dispatcher = options.dispatcher;
  }

  async authorized(
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
    if (saysFailure(response.body)) {
      throw new OpentactRequestError(
        'OPENTACT_REFUSED',
        `Opentact ${method} ${path} answered success: false (HTTP ${response.status})${serverMessage(response.body, [token])}`,
        response.status,
      );
    }
    return response.body;
  }

  /** An undocumented call: an "unsupported" status is reported to `onUnsupported`, not thrown. */
  async optional(
    token: string,
    method: HttpMethod,
    path: string,
    json: unknown,
    onUnsupported: (status: number) => void,
  ): Promise<unknown> {
    try {
      return await this.authorized(token, method, path, json);
    } catch (error) {
      if (
        error instanceof OpentactRequestError &&
        error.code === 'OPENTACT_REQUEST_FAILED' &&
        error.status !== undefined &&
        UNSUPPORTED_STATUSES.has(error.status)
      ) {
        onUnsupported(error.status);
        return NOT_SUPPORTED;
      }
      throw error;
    }
  }

  async call(
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
