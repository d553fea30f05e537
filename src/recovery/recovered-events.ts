import { entityStateAlias } from '../events/entity-state-alias';
import { derivedEventId } from '../events/event-id';
import type { EventNormalizer } from '../events/event-normalizer.service';
import { EventType } from '../events/event-type.enum';
import type { CallEventData, NormalizedEvent, SmsEventData } from '../events/normalized-event';

/** One state of one entity, as the WSS would have told it, with the identities it dedups on. */
export interface RecoveredEvent {
  event: NormalizedEvent;
  aliases: string[];
}

export interface RecoveryWindow {
  fromMs: number;
  toMs: number;
}

/** Call states in the order a call goes through them, with the entity field that times each. */
const CALL_STATE_TIMES: readonly (readonly [state: string, field: string])[] = [
  ['init', 'init_on'],
  ['ringing', 'ring_on'],
  ['live', 'answer_on'],
  ['hangup', 'hangup_on'],
  ['destroyed', 'destroy_on'],
];

const CAUSE_FIELDS = ['q850_cause', 'q850_cause_string', 'finished_on'] as const;

const RECOVERED_MESSAGE = 'recovered over the Opentact REST API';

function timeOf(value: unknown): number | undefined {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function within(ms: number, window: RecoveryWindow): boolean {
  return ms >= window.fromMs && ms <= window.toMs;
}

/**
 * The frame the WSS would have carried for this entity state (the older envelope, whose payload is
 * the entity), normalised by the same code as every frame read off the socket, then marked
 * recovered. The id comes from the entity state alone, so two processes recovering the same state
 * produce the same event; undefined when the normaliser refuses it or nothing identifies it.
 */
function recover(
  normalizer: EventNormalizer,
  frame: Record<string, unknown>,
  receivedAt: Date,
  extraAliases: (type: string, state: string) => string[],
): RecoveredEvent | undefined {
  const outcome = normalizer.normalize(JSON.stringify(frame), false, receivedAt);
  if (outcome.kind !== 'event') {
    return undefined;
  }
  const { event } = outcome;
  const alias = entityStateAlias(event.type, event.data);
  if (alias === undefined) {
    return undefined;
  }
  const state = String((event.data as { state?: unknown }).state).toLowerCase();
  event.id = derivedEventId('recovered', frame, [alias]);
  event.data = { ...(event.data as CallEventData | SmsEventData), recovered: true };
  return { event, aliases: [alias, ...extraAliases(event.type, state)] };
}

/**
 * An SMS from `/sms/search/inbound` or `/outbound` (the path says the direction: the entity has no
 * smsi/smso). Its current state becomes `sms.inbound` or `sms.outbound`; a sent message's state
 * also stands for the delivery receipt of that state (`sms.updated`), so a receipt already read on
 * the WSS is not announced again, and a late receipt after recovery is not either.
 */
export function recoverSms(
  normalizer: EventNormalizer,
  entity: Record<string, unknown>,
  direction: 'inbound' | 'outbound',
  window: RecoveryWindow,
  receivedAt: Date,
): RecoveredEvent[] {
  const modifiedMs = timeOf(entity.modified_on);
  if (modifiedMs !== undefined && !within(modifiedMs, window)) {
    return [];
  }
  const frame = {
    type: 'sms',
    timestamp: typeof entity.modified_on === 'string' ? entity.modified_on : undefined,
    message: RECOVERED_MESSAGE,
    payload: { ...entity, type: direction === 'inbound' ? 'smsi' : 'smso' },
  };
  const recovered = recover(normalizer, frame, receivedAt, (type, state) => {
    const messageId = (frame.payload as { uuid?: unknown }).uuid;
    const receipt =
      type === String(EventType.SmsOutbound)
        ? entityStateAlias(EventType.SmsUpdated, { messageId, state })
        : undefined;
    return receipt === undefined ? [] : [receipt];
  });
  return recovered === undefined ? [] : [recovered];
}

/**
 * A call from `/sip/app/call/search`: REST knows only its current state, but the per-state
 * timestamps say which states it went through. Each state timed within the window becomes the
 * `call.<state>` event the WSS would have sent, with the call as it stood then (later timestamps
 * and the hang-up cause removed). A current state without a timestamp field of its own (an
 * undocumented one) counts when the call was modified within the window.
 */
export function recoverCall(
  normalizer: EventNormalizer,
  entity: Record<string, unknown>,
  window: RecoveryWindow,
  receivedAt: Date,
): RecoveredEvent[] {
  const out: RecoveredEvent[] = [];
  const current = typeof entity.state === 'string' ? entity.state.toLowerCase() : undefined;
  let currentTimed = false;
  CALL_STATE_TIMES.forEach(([state, field], index) => {
    const atMs = timeOf(entity[field]);
    if (state === current) {
      currentTimed = true;
    }
    if (atMs === undefined || !within(atMs, window)) {
      return;
    }
    const payload: Record<string, unknown> = { ...entity, state, modified_on: entity[field] };
    for (const [, later] of CALL_STATE_TIMES.slice(index + 1)) {
      if (later in payload) {
        payload[later] = null;
      }
    }
    if (index < 3) {
      for (const key of CAUSE_FIELDS) {
        if (key in payload) {
          payload[key] = null;
        }
      }
    }
    const frame = {
      type: 'call_state',
      timestamp: entity[field],
      message: RECOVERED_MESSAGE,
      payload,
    };
    const recovered = recover(normalizer, frame, receivedAt, () => []);
    if (recovered) {
      out.push(recovered);
    }
  });
  const modifiedMs = timeOf(entity.modified_on);
  if (
    current !== undefined &&
    !currentTimed &&
    modifiedMs !== undefined &&
    within(modifiedMs, window)
  ) {
    const frame = {
      type: 'call_state',
      timestamp: entity.modified_on,
      message: RECOVERED_MESSAGE,
      payload: entity,
    };
    const recovered = recover(normalizer, frame, receivedAt, () => []);
    if (recovered) {
      out.push(recovered);
    }
  }
  return out;
}
