import { EventType } from './event-type.enum';

/** Longest entity id that takes part in an alias (aliases become Redis key names). */
const MAX_ALIAS_PART_LENGTH = 128;

const CALL_STATE_EVENTS: ReadonlySet<string> = new Set([
  EventType.CallInitiated,
  EventType.CallRinging,
  EventType.CallLive,
  EventType.CallHangup,
  EventType.CallDestroyed,
  EventType.CallStateChanged,
]);

const SMS_EVENTS: ReadonlySet<string> = new Set([
  EventType.SmsInbound,
  EventType.SmsOutbound,
  EventType.SmsUpdated,
]);

function part(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= MAX_ALIAS_PART_LENGTH
    ? value
    : undefined;
}

/**
 * An SMS's state has two documented dimensions (reference §4.9): `state` (created → success) and
 * `delivered` (false → true). The sent and the delivered event of one message share `success`,
 * so the flag is part of the identity; a state that carries no flag is a third identity, never
 * merged with either.
 */
function deliveredPart(value: unknown): string {
  if (value === true) {
    return ':delivered';
  }
  return value === false ? ':undelivered' : '';
}

/**
 * The identity of one state of one entity, shared by the WSS and the REST searches: a state read
 * on the socket and the same state recovered later over REST (or the other way round) are one
 * event, whatever their ids. `call:<callId>:<state>` for call state events; for SMS
 * `sms:<messageId>:<event type>:<state>[:delivered|:undelivered]` (a receipt and the message it
 * updates are different events even when they share a state, and so are a message sent and the
 * same message delivered). Undefined for events that REST cannot recover.
 */
export function entityStateAlias(type: string, data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) {
    return undefined;
  }
  const fields = data as Record<string, unknown>;
  const state = part(fields.state)?.toLowerCase();
  if (state === undefined) {
    return undefined;
  }
  if (CALL_STATE_EVENTS.has(type)) {
    const callId = part(fields.callId);
    return callId === undefined ? undefined : `call:${callId}:${state}`;
  }
  if (SMS_EVENTS.has(type)) {
    const messageId = part(fields.messageId);
    return messageId === undefined
      ? undefined
      : `sms:${messageId}:${type}:${state}${deliveredPart(fields.delivered)}`;
  }
  return undefined;
}
