import { KNOWN_EVENT_TYPES, PASSTHROUGH_PREFIX } from '../events/event-type.enum';
import { frameKeyOf } from '../events/frame-kind';

/**
 * Label values must come from a bounded set: every distinct value is a series kept in memory
 * until the process ends, and Opentact (or anyone who can reach the socket) chooses frame types.
 */
const KNOWN_FRAME_TYPES: ReadonlySet<string> = new Set([
  'auth',
  'call_state',
  'call_flow',
  'sms',
  'balance',
  'tn_order',
  'call_record',
  'transcript',
  'call_transcript',
  'call_asr',
]);
const EVENT_TYPES: ReadonlySet<string> = new Set(KNOWN_EVENT_TYPES);

/** An Opentact frame type as a label: a known kind, or `other`. */
export function frameTypeLabel(frameType: string): string {
  const key = frameKeyOf(frameType);
  return KNOWN_FRAME_TYPES.has(key) ? key : 'other';
}

/** An event type as a label: a known type, or `opentact.other` for every passed-through kind. */
export function eventTypeLabel(eventType: string): string {
  if (EVENT_TYPES.has(eventType)) {
    return eventType;
  }
  return eventType.startsWith(PASSTHROUGH_PREFIX) ? `${PASSTHROUGH_PREFIX}other` : 'other';
}
