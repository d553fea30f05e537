import type { OpentactConfig } from '../config/app-config';
import { Clock, SystemClock } from '../common/clock';
import { OpentactRequestError } from './opentact-errors';
import {
  isRecord,
  NOT_SUPPORTED,
  OpentactHttp,
  type OpentactRestClientOptions,
} from './opentact-http';

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
/** Entries an update or remove answered 404 for, remembered so they are not asked about again. */
const MAX_REMEMBERED_ENTRIES = 1_000;

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

/** Opentact's WSS event subscriptions (`/event/subscription`): list, create, update, remove, ensure. */
export class OpentactSubscriptionsClient {
  private readonly http: OpentactHttp;
  /** False once the server showed it has no update (PATCH) call; then lapsed entries are re-created. */
  private canUpdate = true;
  /** False once the server showed it has no remove (DELETE) call. */
  private canRemove = true;
  private readonly unknownEntries = { update: new Set<string>(), remove: new Set<string>() };

  constructor(
    config: Pick<OpentactConfig, 'restUrl'>,
    options: OpentactRestClientOptions = {},
    private readonly clock: Clock = new SystemClock(),
  ) {
    this.http = new OpentactHttp(config, options);
  }

  /**
   * `GET /event/subscription`. The wrapper is undocumented: both `{ success, payload: [...] }`
   * and a bare array are accepted; entries without a `type` are skipped.
   */
  async listSubscriptions(token: string): Promise<OpentactSubscription[]> {
    const body = await this.http.authorized(token, 'GET', '/event/subscription');
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
    expiresAt: Date = new Date(this.clock.now().getTime() + SUBSCRIPTION_LIFETIME_MS),
  ): Promise<OpentactSubscription> {
    const request = {
      type,
      channel: 'wss',
      is_active: true,
      expired_on: expiresAt.toISOString(),
    };
    const body = await this.http.authorized(token, 'POST', '/event/subscription', request);
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
    const body = await this.http.optional(token, 'PATCH', path, request, (status) => {
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
    const body = await this.http.optional(token, 'DELETE', path, undefined, (status) => {
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
    nowMs: number = this.clock.now().getTime(),
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
}
