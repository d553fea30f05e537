import { KNOWN_EVENT_TYPES, PASSTHROUGH_PREFIX } from '../events/event-type.enum';
import { FRAME_TYPE_LABELS } from '../events/frame-kind';
import { QuarantineReason } from '../events/normalized-event';

/**
 * Label values must come from a bounded set: every distinct value is a series kept in memory
 * until the process ends, and Opentact (or anyone who can reach the socket) chooses frame types.
 * Frame types are labelled by events/frame-kind.ts `frameTypeLabel`.
 */
const EVENT_TYPES: ReadonlySet<string> = new Set(KNOWN_EVENT_TYPES);

/** An event type as a label: a known type, or `opentact.other` for every passed-through kind. */
export function eventTypeLabel(eventType: string): string {
  if (EVENT_TYPES.has(eventType)) {
    return eventType;
  }
  return eventType.startsWith(PASSTHROUGH_PREFIX) ? `${PASSTHROUGH_PREFIX}other` : 'other';
}

/** Every value eventTypeLabel can return. */
export const EVENT_TYPE_LABELS: readonly string[] = [
  ...KNOWN_EVENT_TYPES,
  `${PASSTHROUGH_PREFIX}other`,
  'other',
];

export { FRAME_TYPE_LABELS };

export const QUARANTINE_REASON_LABELS: readonly string[] = Object.values(QuarantineReason);

/**
 * The outcome × status-class pairs a delivery attempt can be counted under: a success is a 2xx,
 * a 410 disables, a skipped delivery made no request, and anything else may retry or die.
 */
export const DELIVERY_OUTCOME_LABELS: readonly { outcome: string; status_class: string }[] = [
  { outcome: 'success', status_class: '2xx' },
  { outcome: 'disabled', status_class: '4xx' },
  { outcome: 'skipped', status_class: 'none' },
  ...['retry', 'dead'].flatMap((outcome) =>
    ['3xx', '4xx', '5xx', 'none'].map((status_class) => ({ outcome, status_class })),
  ),
];

export const SUBSCRIPTION_DISABLED_REASON_LABELS: readonly string[] = ['gone', 'failing'];

/** Why the server closed a live-stream client; the stream's own CloseReason is this set. */
export const STREAM_CLOSE_REASON_LABELS = [
  'slow',
  'catch_up',
  'auth',
  'since',
  'bad_message',
  'shutdown',
] as const;
