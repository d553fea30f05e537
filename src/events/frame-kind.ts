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
