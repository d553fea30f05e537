import { randomUUID } from 'node:crypto';
import { isRecord, SimulatorHttpError } from './http-json';

export interface SubscriptionRecord {
  uuid: string;
  created_on: string;
  modified_on: string;
  channel: string;
  type: string;
  is_active: boolean;
  expired_on: string | null;
}

/** Subscription entries kept; a client creating without end is refused past this. */
const MAX_SUBSCRIPTION_RECORDS = 10_000;

/** `expired_on` of a request: an ISO date, null (no expiry), or undefined when not given. */
function subscriptionExpiry(value: unknown): string | null | undefined {
  if (value === undefined || value === null) {
    return value;
  }
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new SimulatorHttpError(400, 'expired_on must be an ISO date');
  }
  return value;
}

/**
 * The user's event subscriptions (reference §5) as the simulator's REST API keeps them, and which
 * types they make the WSS send. Request bodies are validated here: a bad one is a 400.
 */
export class SubscriptionRecords {
  private readonly list: SubscriptionRecord[] = [];

  constructor(
    /** `expired_on` given to a subscription created without one. */
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The live entries, in creation order (what GET answers). */
  get all(): readonly SubscriptionRecord[] {
    return this.list;
  }

  /**
   * Each create is a new entry with its own uuid, as the documented answer (§5.2) shows; nothing
   * documented says a second create of a type replaces the first, so entries pile up unless the
   * client re-activates or removes them.
   */
  create(body: unknown): SubscriptionRecord {
    if (!isRecord(body)) {
      throw new SimulatorHttpError(400, 'body must be a JSON object');
    }
    const { type, channel, is_active: isActive, expired_on: expiredOn } = body;
    if (typeof type !== 'string' || type.trim() === '') {
      throw new SimulatorHttpError(400, 'type must be a non-empty string');
    }
    if (typeof channel !== 'string' || channel.trim() === '') {
      throw new SimulatorHttpError(400, 'channel must be a non-empty string');
    }
    if (typeof isActive !== 'boolean') {
      throw new SimulatorHttpError(400, 'is_active must be a boolean');
    }
    const expiry = subscriptionExpiry(expiredOn);
    if (this.list.length >= MAX_SUBSCRIPTION_RECORDS) {
      throw new SimulatorHttpError(400, `at most ${MAX_SUBSCRIPTION_RECORDS} subscriptions`);
    }
    const now = new Date(this.now()).toISOString();
    const record: SubscriptionRecord = {
      uuid: randomUUID(),
      created_on: now,
      modified_on: now,
      channel,
      type,
      is_active: isActive,
      // Every documented entry has an expiry; one asked for without gets the default lifetime.
      expired_on:
        expiry === undefined ? new Date(this.now() + this.ttlSeconds * 1000).toISOString() : expiry,
    };
    this.list.push(record);
    return record;
  }

  /** PATCH: `is_active` and `expired_on` change when given; type and channel stay. 404 if unknown. */
  update(uuid: string, body: unknown): SubscriptionRecord {
    const record = this.list[this.indexOf(uuid)];
    if (!isRecord(body)) {
      throw new SimulatorHttpError(400, 'body must be a JSON object');
    }
    const { is_active: isActive, expired_on: expiredOn } = body;
    if (isActive !== undefined && typeof isActive !== 'boolean') {
      throw new SimulatorHttpError(400, 'is_active must be a boolean');
    }
    const expiry = subscriptionExpiry(expiredOn);
    if (isActive !== undefined) {
      record.is_active = isActive;
    }
    if (expiry !== undefined) {
      record.expired_on = expiry;
    }
    record.modified_on = new Date(this.now()).toISOString();
    return record;
  }

  /** DELETE: the removed entry; 404 if unknown. */
  remove(uuid: string): SubscriptionRecord {
    const [removed] = this.list.splice(this.indexOf(uuid), 1);
    return removed;
  }

  /** Throws the 404 before anything else is looked at, as the API answers an unknown uuid. */
  assertExists(uuid: string): void {
    this.indexOf(uuid);
  }

  /**
   * Lets the subscriptions of `types` (all when omitted) lapse now, as time would: their
   * `expired_on` moves into the past. Returns how many lapsed.
   */
  expire(types?: readonly string[]): number {
    const past = new Date(this.now() - 1_000).toISOString();
    let expired = 0;
    for (const record of this.list) {
      if (types === undefined || types.includes(record.type)) {
        record.expired_on = past;
        record.modified_on = new Date(this.now()).toISOString();
        expired++;
      }
    }
    return expired;
  }

  /** Types with an active WSS subscription whose `expired_on` is absent or still ahead. */
  subscribedTypes(): Set<string> {
    const now = this.now();
    const types = new Set<string>();
    for (const record of this.list) {
      const expiresAt = record.expired_on === null ? Infinity : Date.parse(record.expired_on);
      if (record.is_active && record.channel === 'wss' && expiresAt > now) {
        types.add(record.type);
      }
    }
    return types;
  }

  /** A frame without a readable type (deliberately malformed ones) is sent regardless. */
  isSubscribed(type: string | undefined): boolean {
    return type === undefined || this.subscribedTypes().has(type);
  }

  private indexOf(uuid: string): number {
    const index = this.list.findIndex((s) => s.uuid === uuid);
    if (index < 0) {
      throw new SimulatorHttpError(404, 'Not Found');
    }
    return index;
  }
}
