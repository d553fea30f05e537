import { PASSTHROUGH_PREFIX, type PassthroughEventType } from './event-type.enum';

/** Opentact frame kinds the normaliser models; every other `type` is passed through. */
export enum FrameKind {
  Auth = 'auth',
  CallState = 'call_state',
  CallFlow = 'call_flow',
  Sms = 'sms',
  Balance = 'balance',
  TnOrder = 'tn_order',
  CallRecord = 'call_record',
  Transcript = 'transcript',
  Passthrough = 'passthrough',
}

const MAX_PASSTHROUGH_LENGTH = 64;

/**
 * The docs print one kind both as `call_flow` and as "call flow", so spaces, hyphens and case are
 * not treated as meaningful when matching.
 */
export function frameKeyOf(type: string): string {
  return type
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

const KNOWN_KINDS: ReadonlyMap<string, FrameKind> = new Map([
  ['auth', FrameKind.Auth],
  ['call_state', FrameKind.CallState],
  ['call_flow', FrameKind.CallFlow],
  ['sms', FrameKind.Sms],
  ['balance', FrameKind.Balance],
  ['tn_order', FrameKind.TnOrder],
  ['call_record', FrameKind.CallRecord],
  // Transcripts are undocumented; `call_asr` is the name ASR is billed under.
  ['transcript', FrameKind.Transcript],
  ['call_transcript', FrameKind.Transcript],
  ['call_asr', FrameKind.Transcript],
]);

/**
 * Kinds Opentact is known to send: the modelled ones, and those the newer envelope names as entity
 * slots without documenting them yet.
 */
const DOCUMENTED_UNMODELLED_KINDS = [
  'sms_brand',
  'sms_campaign',
  'tn_lease',
  'ticket',
  'sip_user',
  'sip_domain',
  'transaction',
] as const;

const LABELLED_KINDS: ReadonlySet<string> = new Set([
  ...KNOWN_KINDS.keys(),
  ...DOCUMENTED_UNMODELLED_KINDS,
]);

export const OTHER_FRAME_TYPE_LABEL = 'other';
/** The label of frames that could not be read at all (not JSON, binary, too large). */
export const INVALID_FRAME_TYPE_LABEL = 'invalid';

/** Every value frameTypeLabel can return, and the invalid-frame label. */
export const FRAME_TYPE_LABELS: readonly string[] = [
  ...LABELLED_KINDS,
  OTHER_FRAME_TYPE_LABEL,
  INVALID_FRAME_TYPE_LABEL,
];

/**
 * The value of a `frame_type` metric label: a known Opentact kind (normalised as frameKeyOf does,
 * so "call flow" and `call_flow` are one series) or `other`. A label taken from the frame as sent
 * would let a peer create a series per made-up type.
 */
export function frameTypeLabel(frameType: string): string {
  const key = frameKeyOf(frameType);
  return LABELLED_KINDS.has(key) ? key : OTHER_FRAME_TYPE_LABEL;
}

export function frameKindOf(frameKey: string): FrameKind {
  return (
    KNOWN_KINDS.get(frameKey) ??
    (/transcri/.test(frameKey) ? FrameKind.Transcript : FrameKind.Passthrough)
  );
}

/** Customers match on event types with patterns, so an unknown kind's name is reduced to a safe alphabet. */
export function passthroughTypeOf(frameKey: string): PassthroughEventType {
  const safe = frameKey.replace(/[^a-z0-9_.-]/g, '_').slice(0, MAX_PASSTHROUGH_LENGTH);
  return `${PASSTHROUGH_PREFIX}${safe === '' ? 'unknown' : safe}`;
}
