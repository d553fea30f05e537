/**
 * Every SMS and call the simulator has sent a frame about or created without one, as Opentact's
 * REST searches return them: the entity's latest state, with a call's per-state timestamps kept
 * from every state it went through. Bounded: the oldest-touched entities go first.
 */

export type SmsDirection = 'inbound' | 'outbound';

export type HistorySearch = 'sms-inbound' | 'sms-outbound' | 'calls';

export interface HistoryPage {
  total: number;
  data: Record<string, unknown>[];
}

/** A time bound of a search: epoch ms, either end optional. */
export interface TimeRange {
  fromMs?: number;
  toMs?: number;
}

/**
 * The body filters of reference §7.1. Times bound `created_on` / `modified_on` (inclusive); the
 * others are equalities: `from`, `to` and `tn` compare the digits (Opentact writes a number with
 * and without `+`, `tn` as a JSON number), `sip_control_app` names the app's uuid.
 */
export interface HistoryFilters {
  created?: TimeRange;
  modified?: TimeRange;
  equals?: Readonly<Record<string, string | boolean>>;
}

const SMS_FILTERS = ['from', 'to', 'thread', 'state', 'delivered', 'readed', 'tn', 'reference_id'];

/** The equality filters each search takes (§7.1); other body keys are ignored. */
export const SEARCH_FILTERS: Readonly<Record<HistorySearch, readonly string[]>> = {
  'sms-inbound': SMS_FILTERS,
  'sms-outbound': SMS_FILTERS,
  calls: ['tn', 'from', 'to', 'state', 'sip_control_app'],
};

/** The keys of an SMS as the searches answer it (§7.1): no smsi/smso, the path says the direction. */
export const SMS_SEARCH_KEYS: readonly string[] = [
  'uuid',
  'from',
  'to',
  'thread',
  'message',
  'state',
  'delivered',
  'readed',
  'reference_id',
  'tn',
  'account',
  'created_on',
  'modified_on',
];

const NUMBER_FILTERS: ReadonlySet<string> = new Set(['from', 'to', 'tn']);

/** Entities kept per kind; a bench run of 100,000 frames stays within it. */
export const MAX_HISTORY_ENTITIES = 200_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function timeOf(entity: Record<string, unknown>, key = 'modified_on'): number {
  const value = entity[key];
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? ms : 0;
}

function inRange(ms: number, range: TimeRange | undefined): boolean {
  return (
    range === undefined ||
    ((range.fromMs === undefined || ms >= range.fromMs) &&
      (range.toMs === undefined || ms <= range.toMs))
  );
}

function digits(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return String(value);
  }
  return typeof value === 'string' ? value.replace(/^\+/, '') : undefined;
}

/** The value an equality filter compares with: a number's digits, the app's or tn's inner value. */
function filterValue(entity: Record<string, unknown>, key: string): unknown {
  const value = entity[key];
  if (key === 'tn' && isRecord(value)) {
    return digits(value.tn);
  }
  if (key === 'sip_control_app' && isRecord(value)) {
    return value.uuid;
  }
  return NUMBER_FILTERS.has(key) ? digits(value) : value;
}

function matches(entity: Record<string, unknown>, filters: HistoryFilters): boolean {
  if (!inRange(timeOf(entity, 'created_on'), filters.created)) {
    return false;
  }
  if (!inRange(timeOf(entity), filters.modified)) {
    return false;
  }
  for (const [key, wanted] of Object.entries(filters.equals ?? {})) {
    const expected = NUMBER_FILTERS.has(key) ? digits(wanted) : wanted;
    if (filterValue(entity, key) !== expected) {
      return false;
    }
  }
  return true;
}

export class EntityHistory {
  private readonly sms = new Map<
    string,
    { direction: SmsDirection; entity: Record<string, unknown> }
  >();
  private readonly calls = new Map<string, Record<string, unknown>>();

  constructor(private readonly maxEntities = MAX_HISTORY_ENTITIES) {}

  get size(): { sms: number; calls: number } {
    return { sms: this.sms.size, calls: this.calls.size };
  }

  /** Takes the SMS or call a frame (either envelope) is about; other kinds are not searchable. */
  recordFrame(frame: Record<string, unknown>): void {
    if (frame.type === 'sms') {
      const entity = isRecord(frame.sms) ? frame.sms : frame.payload;
      if (isRecord(entity)) {
        this.recordSms(entity, entity.type === 'smsi' ? 'inbound' : 'outbound');
      }
    } else if (frame.type === 'call_state') {
      const entity = isRecord(frame.call) ? frame.call : frame.payload;
      if (isRecord(entity)) {
        this.recordCall(entity);
      }
    }
  }

  /** The entity as REST has it (§7.1 keys only: no smsi/smso/smsr, the path says the direction). */
  recordSms(entity: Record<string, unknown>, direction: SmsDirection): void {
    if (typeof entity.uuid !== 'string') {
      return;
    }
    const stored: Record<string, unknown> = {};
    for (const key of SMS_SEARCH_KEYS) {
      if (key in entity) {
        stored[key] = entity[key];
      }
    }
    this.sms.delete(entity.uuid);
    this.sms.set(entity.uuid, { direction, entity: stored });
    this.trim(this.sms);
  }

  /** Merged over what is known of the call: newer frames leave out the timestamps still null. */
  recordCall(entity: Record<string, unknown>): void {
    if (typeof entity.uuid !== 'string') {
      return;
    }
    const known = this.calls.get(entity.uuid) ?? {};
    const merged: Record<string, unknown> = { ...known };
    for (const [key, value] of Object.entries(entity)) {
      if (value !== null || !(key in known)) {
        merged[key] = value;
      }
    }
    this.calls.delete(entity.uuid);
    this.calls.set(entity.uuid, merged);
    this.trim(this.calls);
  }

  /**
   * The entities matching every filter, one page of them (`skip`, then at most `take`). The order
   * is not documented; here it is oldest `modified_on` first, then uuid, so pages are stable while
   * nothing changes.
   */
  search(search: HistorySearch, filters: HistoryFilters, take: number, skip: number): HistoryPage {
    const entities =
      search === 'calls'
        ? [...this.calls.values()]
        : [...this.sms.values()]
            .filter((s) => s.direction === (search === 'sms-inbound' ? 'inbound' : 'outbound'))
            .map((s) => s.entity);
    const matching = entities
      .filter((e) => matches(e, filters))
      .sort((a, b) => timeOf(a) - timeOf(b) || String(a.uuid).localeCompare(String(b.uuid)));
    return { total: matching.length, data: matching.slice(skip, skip + take) };
  }

  private trim(map: Map<string, unknown>): void {
    while (map.size > this.maxEntities) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) {
        return;
      }
      map.delete(oldest);
    }
  }
}
