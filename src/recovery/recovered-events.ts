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

/** Index of `hangup` in CALL_STATE_TIMES: from there on the call has ended. */
const ENDED_FROM = 3;

/**
 * What a call keeps for its whole life (reference §3.3): an earlier state is recovered with these
 * and with the timestamps up to it. Everything else the search returns (`duration`, the FreeSWITCH
 * states, `logs`, `records`, `children`, `state_end`, fields Opentact adds later) is known only as
 * it stands now, so it would say something untrue of an earlier state.
 */
const LASTING_CALL_FIELDS: readonly string[] = [
  'uuid',
  'direction',
  'from',
  'to',
  'type',
  'created_on',
  'thread',
  'tn',
  'account',
  'sip_control_app',
  'sipcontrol_app',
  'sip_user',
  'sip_connection',
  'stir_shaken_attest_level',
  'stir_shaken_identity',
  'country',
  'lerg',
  'hotkey',
  'batch_item',
];

/** Settled when the call ends (the hang-up): true of `hangup` and `destroyed`, of nothing before. */
const ENDING_CALL_FIELDS: readonly string[] = [
  'duration',
  'q850_cause',
  'q850_cause_string',
  'release_cause_from_protocol_stack',
  'finished_on',
];

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
  extraAliases: (type: string, data: NormalizedEvent['data']) => string[],
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
  const extra = extraAliases(event.type, event.data);
  event.id = derivedEventId('recovered', frame, [alias]);
  event.data = { ...(event.data as CallEventData | SmsEventData), recovered: true };
  return { event, aliases: [alias, ...extra] };
}

/** The WSS frame of one SMS state, recovered; undefined when the normaliser refuses it. */
function recoverSmsState(
  normalizer: EventNormalizer,
  entity: Record<string, unknown>,
  direction: 'inbound' | 'outbound',
  at: unknown,
  receivedAt: Date,
): RecoveredEvent | undefined {
  const frame = {
    type: 'sms',
    timestamp: typeof at === 'string' ? at : undefined,
    message: RECOVERED_MESSAGE,
    payload: { ...entity, type: direction === 'inbound' ? 'smsi' : 'smso' },
  };
  return recover(normalizer, frame, receivedAt, (type, data) => {
    if (type !== String(EventType.SmsOutbound)) {
      return [];
    }
    // The receipt of this state: the same message, state and delivery (whatever else an SMS
    // identity takes in), under the receipt's event type.
    const receipt = entityStateAlias(EventType.SmsUpdated, data);
    return receipt === undefined ? [] : [receipt];
  });
}

/**
 * An SMS from `/sms/search/inbound` or `/outbound` (the path says the direction: the entity has no
 * smsi/smso). Its current state, `state` and `delivered` as REST has them, becomes `sms.inbound`
 * or `sms.outbound` when it was modified within the window. A sent message's state also stands for
 * the delivery receipt of that state (`sms.updated`), so a receipt already read on the WSS is not
 * announced again, and a late receipt after recovery is not either.
 *
 * REST keeps only the latest state, but a message it shows delivered was sent first (§4.9: sent
 * with `delivered: false`, then delivered with `delivered: true`). When the message was created
 * within the window, that sent state is recovered too, before the delivered one, with the
 * message's `created_on` as its time (REST keeps no other); one created earlier was sent while
 * the socket was still reading, so it is not.
 */
export function recoverSms(
  normalizer: EventNormalizer,
  entity: Record<string, unknown>,
  direction: 'inbound' | 'outbound',
  window: RecoveryWindow,
  receivedAt: Date,
): RecoveredEvent[] {
  const out: RecoveredEvent[] = [];
  const createdMs = timeOf(entity.created_on);
  if (
    direction === 'outbound' &&
    entity.delivered === true &&
    createdMs !== undefined &&
    within(createdMs, window)
  ) {
    const sent = recoverSmsState(
      normalizer,
      { ...entity, delivered: false, modified_on: entity.created_on },
      direction,
      entity.created_on,
      receivedAt,
    );
    if (sent) {
      out.push(sent);
    }
  }
  const modifiedMs = timeOf(entity.modified_on);
  if (modifiedMs === undefined || within(modifiedMs, window)) {
    const current = recoverSmsState(normalizer, entity, direction, entity.modified_on, receivedAt);
    if (current) {
      out.push(current);
    }
  }
  return out;
}

/** Whether the call had ended by the state at `index` (its hang-up is timed, or that state is past it). */
function endedBy(entity: Record<string, unknown>, index: number): boolean {
  return index >= ENDED_FROM || (index < 0 && timeOf(entity.hangup_on) !== undefined);
}

/**
 * The call as it stood in the state at `index` of CALL_STATE_TIMES (-1: an undocumented state).
 * The state REST shows now is the entity as read, except for a `duration` of a call that has not
 * ended (REST's is as of the search, not as of that state). An earlier state has only what a call
 * keeps for its whole life, the timestamps up to it, the hang-up's duration and cause once the
 * call had ended, and its parent by id alone (the parent's state is as of now too).
 */
function callAsOf(
  entity: Record<string, unknown>,
  index: number,
  current: boolean,
): Record<string, unknown> {
  if (current) {
    const payload = { ...entity };
    if (!endedBy(entity, index)) {
      delete payload.duration;
    }
    return payload;
  }
  const payload: Record<string, unknown> = {};
  const keep = [
    ...LASTING_CALL_FIELDS,
    ...CALL_STATE_TIMES.slice(0, index + 1).map(([, field]) => field),
    ...(endedBy(entity, index) ? ENDING_CALL_FIELDS : []),
  ];
  for (const key of keep) {
    if (key in entity) {
      payload[key] = entity[key];
    }
  }
  const parent = entity.parent;
  if (typeof parent === 'object' && parent !== null && 'uuid' in parent) {
    payload.parent = { uuid: parent.uuid };
  }
  return payload;
}

/**
 * A call from `/sip/app/call/search`: REST knows only its current state, but the per-state
 * timestamps say which states it went through. Each state timed within the window becomes the
 * `call.<state>` event the WSS would have sent, with the call as it stood then (see callAsOf). A
 * current state without a timestamp field of its own (an undocumented one) counts when the call
 * was modified within the window.
 */
export function recoverCall(
  normalizer: EventNormalizer,
  entity: Record<string, unknown>,
  window: RecoveryWindow,
  receivedAt: Date,
): RecoveredEvent[] {
  const out: RecoveredEvent[] = [];
  const current = typeof entity.state === 'string' ? entity.state.toLowerCase() : undefined;
  const currentIndex = CALL_STATE_TIMES.findIndex(([state]) => state === current);
  CALL_STATE_TIMES.forEach(([state, field], index) => {
    const atMs = timeOf(entity[field]);
    if (atMs === undefined || !within(atMs, window)) {
      return;
    }
    const payload = {
      ...callAsOf(entity, index, index === currentIndex),
      state,
      modified_on: entity[field],
    };
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
    currentIndex < 0 &&
    modifiedMs !== undefined &&
    within(modifiedMs, window)
  ) {
    const frame = {
      type: 'call_state',
      timestamp: entity.modified_on,
      message: RECOVERED_MESSAGE,
      payload: callAsOf(entity, -1, true),
    };
    const recovered = recover(normalizer, frame, receivedAt, () => []);
    if (recovered) {
      out.push(recovered);
    }
  }
  return out;
}
