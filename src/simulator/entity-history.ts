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

/** Entities kept per kind; a bench run of 100,000 frames stays within it. */
export const MAX_HISTORY_ENTITIES = 200_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function timeOf(entity: Record<string, unknown>): number {
  const ms = typeof entity.modified_on === 'string' ? Date.parse(entity.modified_on) : NaN;
  return Number.isFinite(ms) ? ms : 0;
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

  /** The entity as REST has it: no smsi/smso/smsr `type` (the search path says the direction). */
  recordSms(entity: Record<string, unknown>, direction: SmsDirection): void {
    if (typeof entity.uuid !== 'string') {
      return;
    }
    const stored = { ...entity };
    delete stored.type;
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

  /** Entities modified within [from, to] (either bound optional), oldest first, one page of them. */
  search(
    search: HistorySearch,
    fromMs: number | undefined,
    toMs: number | undefined,
    take: number,
    skip: number,
  ): HistoryPage {
    const entities =
      search === 'calls'
        ? [...this.calls.values()]
        : [...this.sms.values()]
            .filter((s) => s.direction === (search === 'sms-inbound' ? 'inbound' : 'outbound'))
            .map((s) => s.entity);
    const matching = entities
      .filter((e) => {
        const at = timeOf(e);
        return (fromMs === undefined || at >= fromMs) && (toMs === undefined || at <= toMs);
      })
      .sort((a, b) => timeOf(a) - timeOf(b));
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
