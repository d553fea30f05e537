import { randomUUID } from 'node:crypto';
import { accountSnapshot } from './account';
import type { SimFrame } from './frame-kinds';

/** The two envelopes a frame comes in (§3.1, §3.2) and the timestamps they carry. */

/**
 * Entity slots of the newer envelope: null unless the frame is about that kind (§3.1, §7). Several
 * name kinds the docs have not described yet.
 */
export const NEWER_ENTITY_SLOTS = [
  'call',
  'call_flow',
  'call_record',
  'call_asr',
  'sms',
  'sms_brand',
  'sms_campaign',
  'tn',
  'tn_order',
  'tn_lease',
  'ticket',
  'sip_user',
  'sip_domain',
  'transaction',
] as const;

const NULL_SLOTS: Readonly<Record<string, null>> = Object.fromEntries(
  NEWER_ENTITY_SLOTS.map((slot) => [slot, null]),
);

/**
 * Older balance and call_flow frames have no `payload.uuid`, so `timestamp` is what tells two of
 * them apart for the bridge's dedupe key; it is kept strictly increasing even when several are
 * built in one ms.
 */
let lastUniqueTimestamp = 0;

export function uniqueTimestamp(at: number): number {
  lastUniqueTimestamp = Math.max(at, lastUniqueTimestamp + 1);
  return lastUniqueTimestamp;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function newerEnvelope(type: string, message: string, at: number, rest: SimFrame): SimFrame {
  return {
    uuid: randomUUID(),
    created_on: iso(at),
    type,
    message,
    ...NULL_SLOTS,
    ...rest,
    account: accountSnapshot(),
    modified_on: iso(at),
    delivery_report: [],
  };
}

/**
 * Older frames have no envelope uuid; `sim_id` is the simulator's own id for them so tests can
 * match a delivered event to what was sent. Opentact never sends this field.
 */
export function olderEnvelope(type: string, message: string, at: number, rest: SimFrame): SimFrame {
  return { timestamp: iso(at), message, type, ...rest, sim_id: randomUUID() };
}

/** The id a test can match against `sentLog`: the envelope uuid, else the simulator's `sim_id`. */
export function frameLogId(frame: Record<string, unknown>): string | undefined {
  if (typeof frame.uuid === 'string') {
    return frame.uuid;
  }
  if (typeof frame.sim_id === 'string') {
    return frame.sim_id;
  }
  return undefined;
}
