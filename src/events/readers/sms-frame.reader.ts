import { identityTime } from '../event-id';
import { SMS_ENTITY_KEYS, SmsFrameDto } from '../dto/sms-frame.dto';
import { frameProblem, pick } from '../dto/validate-frame';
import { EventType } from '../event-type.enum';
import {
  compact,
  type Frame,
  readBoolean,
  readDirection,
  readId,
  readPhone,
  readString,
  readText,
  readTn,
  uuidOf,
} from '../frame-fields';
import type { Direction, SmsEventData } from '../normalized-event';
import { entitySlots, type FrameReading, type InvalidReading } from './frame-reading';

/**
 * `smso` is documented as outbound; `smsi` as inbound only by integration code. `smsr` is a
 * delivery receipt: an update of a message the account sent (integration code takes its sender
 * from the account's `tn`), so it is outbound.
 */
const SMS_TYPES: ReadonlyMap<string, { type: EventType; direction: Direction }> = new Map([
  ['smso', { type: EventType.SmsOutbound, direction: 'outbound' }],
  ['smsi', { type: EventType.SmsInbound, direction: 'inbound' }],
  ['smsr', { type: EventType.SmsUpdated, direction: 'outbound' }],
]);

export function readSms(frame: Frame): FrameReading | InvalidReading {
  const { slot, entity: sms, side } = entitySlots(frame, 'sms');
  const problem = frameProblem(
    SmsFrameDto,
    slot === undefined
      ? { payload: pick(frame.payload, SMS_ENTITY_KEYS) }
      : { sms: pick(slot, SMS_ENTITY_KEYS) },
  );
  if (problem !== undefined) {
    return { problem };
  }
  const smsType = readString(sms.type) ?? readString(side?.type);
  const known = SMS_TYPES.get(smsType?.toLowerCase() ?? '');
  const state = readString(side?.state) ?? readString(sms.state);
  const data = compact<SmsEventData>({
    messageId: readId(sms.uuid),
    direction: known?.direction ?? readDirection(sms.direction ?? side?.direction),
    smsType,
    from: readPhone(sms.from),
    to: readPhone(sms.to),
    text: readString(sms.message) ?? readString(sms.text),
    referenceId: readText(sms.reference_id) ?? readText(side?.reference_id),
    state,
    delivered: readBoolean(side?.delivered) ?? readBoolean(sms.delivered),
    tn: readTn(sms.tn),
    thread: readString(sms.thread),
    accountId: uuidOf(sms.account) ?? uuidOf(frame.account),
    reason: readString(sms.reason) ?? readString(side?.reason),
  });
  return {
    type: known?.type ?? EventType.SmsUpdated,
    data,
    // One SMS produces several events (created → success, delivered false → true).
    identity:
      data.messageId === undefined
        ? undefined
        : [data.messageId, smsType, state, data.delivered, identityTime(sms.modified_on)],
  };
}
