import { KNOWN_EVENT_TYPES, PASSTHROUGH_PREFIX } from '../events/event-type.enum';

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
