/**
 * The vocabulary of the simulated frames: envelope generations, the kinds the factory builds,
 * Opentact's wire names for them, call states and the options a frame is built with.
 */

/** `newer` = 2024 envelope (`uuid`, `created_on`, entity slots); `older` = 2022 (`timestamp`, payload is the entity). */
export type Generation = 'newer' | 'older';

export const GENERATIONS: readonly Generation[] = ['newer', 'older'];

export type FrameKind =
  | 'call_state'
  | 'call_answered'
  | 'dial_failed'
  | 'sms_outbound'
  | 'sms_inbound'
  | 'sms_receipt'
  | 'balance'
  | 'tn_order'
  | 'call_record'
  | 'transcript'
  | 'call_asr'
  | 'unknown';

export const FRAME_KINDS: readonly FrameKind[] = [
  'call_state',
  'call_answered',
  'dial_failed',
  'sms_outbound',
  'sms_inbound',
  'sms_receipt',
  'balance',
  'tn_order',
  'call_record',
  'transcript',
  'call_asr',
  'unknown',
];

export type CallState = 'init' | 'ringing' | 'live' | 'hangup' | 'destroyed';

export const CALL_STATES: readonly CallState[] = ['init', 'ringing', 'live', 'hangup', 'destroyed'];

export type SimFrame = Record<string, unknown>;

/** Opentact's wire names for the kinds, in one place. */
export const FrameType = {
  Auth: 'auth',
  CallState: 'call_state',
  CallFlow: 'call_flow',
  Sms: 'sms',
  Balance: 'balance',
  TnOrder: 'tn_order',
  CallRecord: 'call_record',
  CallTranscript: 'call_transcript',
  CallAsr: 'call_asr',
  /** Not an Opentact kind the bridge knows: exercises the pass-through path. */
  Unknown: 'conference_state',
} as const;

/** The call a frame is about; scenarios reuse one so every state change shares the call uuid. */
export interface SimCall {
  uuid: string;
  direction: 'in' | 'out';
  from: string;
  to: string;
  thread: string;
  createdAt: number;
  /** The A-leg of an outbound child leg (§4.6). */
  parent?: SimCall;
  /** When the call last changed state (epoch ms): `payload.duration` counts from there. */
  stateSince?: number;
}

/** Q.850 cause of a call that ended; the docs show 16 for a normal end, 18 for an unanswered leg. */
export interface HangupCause {
  code: number;
  text: string;
}

export const NORMAL_CLEARING: HangupCause = { code: 16, text: 'NORMAL_CLEARING' };
export const NO_USER_RESPONSE: HangupCause = { code: 18, text: 'NO_USER_RESPONSE' };

export interface BuildOptions {
  /** When the event happened (epoch ms); defaults to now. */
  at?: number;
  call?: SimCall;
  /** call_state only; defaults to `init`. */
  state?: CallState;
  /** sms_outbound only: a message just created (`created`, not delivered). */
  smsCreated?: boolean;
  /**
   * sms_outbound only: whether the message has been delivered (default true, as the documented
   * example). `false` with state `success` is the first of the two documented events (§4.9).
   */
  smsDelivered?: boolean;
  /** sms only: reuse one message uuid across its lifecycle events (its thread follows from it). */
  smsUuid?: string;
  /** sms only: when the message was created (epoch ms); defaults to 5 s before the event. */
  smsCreatedAt?: number;
  /** call_state `hangup` / `destroyed` only; defaults to NORMAL_CLEARING. */
  cause?: HangupCause;
}

export function isGeneration(value: unknown): value is Generation {
  return value === 'newer' || value === 'older';
}

/** Builds one kind of frame in a generation for the moment `at` (epoch ms). */
export type FrameBuilder = (generation: Generation, at: number, options: BuildOptions) => SimFrame;
