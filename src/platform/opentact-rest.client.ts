import { request, type Dispatcher } from 'undici';
import type { OpentactConfig } from '../config/app-config';
import { OpentactAuthError, OpentactRequestError } from './opentact-errors';

/** One entry of `GET /event/subscription` (only the fields we rely on). */
export interface OpentactSubscription {
  uuid?: string;
  type: string;
  channel: string;
  is_active: boolean;
  /** ISO; past it the entry delivers nothing. Absent (or null) when the entry does not expire. */
  expired_on?: string;
}

export interface EnsuredSubscriptions {
  /** Entries created because their type had none that was active, on the WSS and unexpired. */
  created: OpentactSubscription[];
  /** Lapsed entries (inactive, expired or expiring) made active again with a new expiry. */
  reactivated?: OpentactSubscription[];
  /** Uuids of lapsed or duplicate entries removed, so that the list does not grow. */
  removed?: string[];
  /** When the first of the ensured types lapses (epoch ms); undefined if none expires. */
  expiresAtMs?: number;
}

/** The lifetime asked for when creating a subscription; Opentact's own default is undocumented. */
export const SUBSCRIPTION_LIFETIME_MS = 365 * 86_400_000;
/** An entry expiring within this margin counts as missing, so it is renewed before it lapses. */
export const SUBSCRIPTION_RENEW_MARGIN_MS = 5 * 60_000;

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

export interface OpentactRestClientOptions {
  /** Per-request bound for headers and for the body; keeps start-up from hanging on a dead API. */
  timeoutMs?: number;
  /** For tests (undici `MockAgent`); the global dispatcher otherwise. */
  dispatcher?: Dispatcher;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_SERVER_MESSAGE_CHARS = 200;

type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * Answers meaning "no such endpoint or method" for the undocumented update and remove calls
 * (reference §5.3): the client stops using that call. A 404 may also mean the entry is gone.
 */
const UNSUPPORTED_STATUSES = new Set([404, 405, 501]);
/** Entries an update or remove answered 404 for, remembered so they are not asked about again. */
const MAX_REMEMBERED_ENTRIES = 1_000;

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
  const subscription: OpentactSubscription = {
    uuid: typeof value.uuid === 'string' ? value.uuid : undefined,
    type: value.type,
    channel: typeof value.channel === 'string' ? value.channel : '',
    is_active: value.is_active === true,
  };
  if (typeof value.expired_on === 'string') {
    subscription.expired_on = value.expired_on;
  }
  return subscription;
}

/** A value `authorized` returns for an undocumented call the server does not have. */
const NOT_SUPPORTED = Symbol('NOT_SUPPORTED');

/** When an entry stops delivering: its expiry, or never. */
function lapsesAt(subscription: OpentactSubscription): number {
  return expiryOf(subscription) ?? Number.POSITIVE_INFINITY;
}

/**
 * Epoch ms of `expired_on`; undefined when the entry has none. An unreadable value counts as no
 * expiry: re-creating on every connect for a field we cannot read would help nobody.
 */
function expiryOf(subscription: OpentactSubscription): number | undefined {
  const ms = subscription.expired_on === undefined ? NaN : Date.parse(subscription.expired_on);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Opentact's REST API: login, WSS event subscriptions and the entity searches. */
export class OpentactRestClient {
  private readonly timeoutMs: number;
  private readonly dispatcher?: Dispatcher;
  /** False once the server showed it has no update (PATCH) call; then lapsed entries are re-created. */
  private canUpdate = true;
  /** False once the server showed it has no remove (DELETE) call. */
  private canRemove = true;
  private readonly unknownEntries = { update: new Set<string>(), remove: new Set<string>() };

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

  /** `POST /event/subscription` for an active WSS subscription of `type`, lapsing at `expiresAt`. */
  async createSubscription(
    token: string,
    type: string,
    expiresAt: Date = new Date(Date.now() + SUBSCRIPTION_LIFETIME_MS),
  ): Promise<OpentactSubscription> {
    const request = {
      type,
      channel: 'wss',
      is_active: true,
      expired_on: expiresAt.toISOString(),
    };
    const body = await this.authorized(token, 'POST', '/event/subscription', request);
    return this.accepted('POST /event/subscription', body, request);
  }

  /**
   * `PATCH /event/subscription/{uuid}` making the entry active until `expiresAt`. Undocumented
   * (reference §5.3, inferred): resolves to undefined when the server has no such call (404, 405,
   * 501), and from then on is not tried again.
   */
  async reactivateSubscription(
    token: string,
    subscription: OpentactSubscription & { uuid: string },
    expiresAt: Date,
  ): Promise<OpentactSubscription | undefined> {
    if (!this.canUpdate || this.unknownEntries.update.has(subscription.uuid)) {
      return undefined;
    }
    const path = `/event/subscription/${encodeURIComponent(subscription.uuid)}`;
    const request = { is_active: true, expired_on: expiresAt.toISOString() };
    const body = await this.optional(token, 'PATCH', path, request, (status) => {
      if (status === 404) {
        this.remember('update', subscription.uuid);
      } else {
        this.canUpdate = false;
      }
    });
    if (body === NOT_SUPPORTED) {
      return undefined;
    }
    return this.accepted(`PATCH ${path}`, body, { ...subscription, ...request });
  }

  /**
   * `DELETE /event/subscription/{uuid}` (reference §5.3, inferred). True when removed or already
   * gone (404); false when the server has no such call (405, 501), after which it is not tried.
   */
  async removeSubscription(token: string, uuid: string): Promise<boolean> {
    if (!this.canRemove) {
      return false;
    }
    if (this.unknownEntries.remove.has(uuid)) {
      return true;
    }
    const path = `/event/subscription/${encodeURIComponent(uuid)}`;
    let unsupported = false;
    const body = await this.optional(token, 'DELETE', path, undefined, (status) => {
      if (status === 404) {
        this.remember('remove', uuid);
      } else {
        unsupported = true;
        this.canRemove = false;
      }
    });
    return body !== NOT_SUPPORTED || !unsupported;
  }

  /**
   * Makes sure each of `types` has one active WSS subscription that does not lapse within
   * SUBSCRIPTION_RENEW_MARGIN_MS. An expired entry delivers nothing, so it counts as missing: a
   * lapsed entry of the type is made active again (update), or a new one is created; then the
   * lapsed entries and duplicates left are removed, so the list does not grow round after round.
   * Update and remove are undocumented: without them, entries are only created, one per type
   * when none is usable. Returns what changed and when the first ensured type lapses.
   */
  async ensureSubscriptions(
    token: string,
    types: readonly string[],
    nowMs: number = Date.now(),
  ): Promise<EnsuredSubscriptions> {
    const existing = await this.listSubscriptions(token);
    const created: OpentactSubscription[] = [];
    const reactivated: OpentactSubscription[] = [];
    const removed: string[] = [];
    let firstExpiry = Number.POSITIVE_INFINITY;
    for (const type of new Set(types)) {
      const entries = existing.filter((s) => s.type === type && s.channel === 'wss');
      const usable = entries
        .filter((s) => s.is_active && lapsesAt(s) > nowMs + SUBSCRIPTION_RENEW_MARGIN_MS)
        .sort((a, b) => lapsesAt(b) - lapsesAt(a) || (a.uuid ?? '').localeCompare(b.uuid ?? ''));
      let kept = usable[0];
      let expiry = kept === undefined ? undefined : lapsesAt(kept);
      if (kept === undefined) {
        const requested = nowMs + SUBSCRIPTION_LIFETIME_MS;
        const lapsed = entries.find((s): s is OpentactSubscription & { uuid: string } => !!s.uuid);
        const renewed = lapsed
          ? await this.reactivateSubscription(token, lapsed, new Date(requested))
          : undefined;
        if (renewed && lapsed) {
          reactivated.push(renewed);
          kept = lapsed;
        } else {
          kept = await this.createSubscription(token, type, new Date(requested));
          created.push(kept);
        }
        // A server that answers with an expiry already past did not take ours; ours then stands.
        const answered = expiryOf(renewed ?? kept);
        expiry = answered !== undefined && answered > nowMs ? answered : requested;
      }
      firstExpiry = Math.min(firstExpiry, expiry ?? Number.POSITIVE_INFINITY);
      for (const entry of entries) {
        if (entry !== kept && entry.uuid !== undefined && entry.uuid !== kept.uuid) {
          if (!(await this.removeSubscription(token, entry.uuid))) {
            break;
          }
          removed.push(entry.uuid);
        }
      }
    }
    return {
      created,
      reactivated,
      removed,
      expiresAtMs: Number.isFinite(firstExpiry) ? firstExpiry : undefined,
    };
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
    const body = await this.authorized(token, 'POST', `${search}?take=${take}&skip=${skip}`, {
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
  private async optional(
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

  /** The entry a create or update answered; one answered inactive was not taken. */
  private accepted(call: string, body: unknown, asked: OpentactSubscription): OpentactSubscription {
    const answered = parseSubscription(isRecord(body) ? body.payload : undefined);
    if (isRecord(body) && isRecord(body.payload) && body.payload.is_active === false) {
      throw new OpentactRequestError(
        'OPENTACT_REFUSED',
        `Opentact ${call} answered an inactive subscription`,
      );
    }
    return answered ?? asked;
  }

  private remember(call: 'update' | 'remove', uuid: string): void {
    const set = this.unknownEntries[call];
    if (set.size >= MAX_REMEMBERED_ENTRIES) {
      set.clear();
    }
    set.add(uuid);
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
