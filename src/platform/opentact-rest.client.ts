import type { OpentactConfig } from '../config/app-config';
import { OpentactAuthError, OpentactRequestError } from './opentact-errors';
import {
  describeCause,
  isRecord,
  OpentactHttp,
  type OpentactRestClientOptions,
  type RawResponse,
  serverMessage,
} from './opentact-http';

/** One page of an entity search (`POST /sms/search/...`, `POST /sip/app/call/search`). */
export interface SearchPage {
  /** How many entities match in all, over every page. */
  total: number;
  /** This page's entities, as Opentact sent them. */
  data: Record<string, unknown>[];
}

/** `modified_on_from` / `modified_on_to` (and `created_on_to`) of a search, and its page. */
export interface SearchRequest {
  modifiedFrom: Date;
  modifiedTo: Date;
  /** `created_on_to` (§7.1): leaves out entities created later, when given. */
  createdTo?: Date;
  /** 1-100 (Opentact's bound). */
  take: number;
  skip: number;
}

/** The searches that can fill a gap (reference §7.1); the path says the SMS direction. */
export enum EntitySearch {
  SmsInbound = '/sms/search/inbound',
  SmsOutbound = '/sms/search/outbound',
  Calls = '/sip/app/call/search',
}

/** Opentact's largest page. */
export const MAX_SEARCH_TAKE = 100;

/** Opentact's REST API for login and the entity searches; the subscriptions have their own client. */
export class OpentactRestClient {
  private readonly http: OpentactHttp;

  constructor(config: Pick<OpentactConfig, 'restUrl'>, options: OpentactRestClientOptions = {}) {
    this.http = new OpentactHttp(config, options);
  }

  /** `GET /auth` with HTTP Basic; resolves to the JWT in `payload.token`. */
  async login(email: string, password: string): Promise<string> {
    const basic = Buffer.from(`${email}:${password}`, 'utf8').toString('base64');
    let response: RawResponse;
    try {
      response = await this.http.call('GET', '/auth', { authorization: `Basic ${basic}` });
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
   * One page of a search over the entities modified within the window (and created by
   * `createdTo`, when given), with `take`/`skip` in the query and the time filters (ISO) in the
   * body. Answers `{ payload: { total, data } }`. A refusal (401 for a lapsed token among them) is
   * an OpentactRequestError with its status.
   */
  async search(token: string, search: EntitySearch, request: SearchRequest): Promise<SearchPage> {
    const take = Math.min(MAX_SEARCH_TAKE, Math.max(1, Math.floor(request.take)));
    const skip = Math.max(0, Math.floor(request.skip));
    const body = await this.http.authorized(token, 'POST', `${search}?take=${take}&skip=${skip}`, {
      modified_on_from: request.modifiedFrom.toISOString(),
      modified_on_to: request.modifiedTo.toISOString(),
      ...(request.createdTo === undefined
        ? {}
        : { created_on_to: request.createdTo.toISOString() }),
    });
    const payload = isRecord(body) ? body.payload : undefined;
    const total = isRecord(payload) ? payload.total : undefined;
    const data = isRecord(payload) ? payload.data : undefined;
    if (
      typeof total !== 'number' ||
      !Number.isSafeInteger(total) ||
      total < 0 ||
      !Array.isArray(data)
    ) {
      throw new OpentactRequestError(
        'OPENTACT_BAD_RESPONSE',
        `Opentact POST ${search} answered without payload.total and payload.data`,
      );
    }
    return { total, data: data.filter(isRecord) };
  }
}
