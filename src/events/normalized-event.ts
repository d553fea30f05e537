import type { NormalizedEventType } from './event-type.enum';

export type Direction = 'inbound' | 'outbound';

/** Data of every call.* event. Fields Opentact did not send are left out, never invented. */
export interface CallEventData {
  callId?: string;
  direction?: Direction;
  /**
   * E.164 (`+` and digits) where the digits carry a country code (a leading `+`, or more than 10
   * digits forming a valid number: `18382050008` is `+18382050008`); otherwise as received, such
   * as a 10-digit NANP national number (`4158531285`), a short code or a SIP user id. `from`, `to`
   * and `tn` of one event follow the same rule.
   */
  from?: string;
  to?: string;
  state?: string;
  /** Seconds as sent by Opentact (older frames appear to use milliseconds; passed through as is). */
  duration?: number;
  parentCallId?: string;
  q850Cause?: number;
  q850CauseString?: string;
  sipControlAppId?: string;
  accountId?: string;
  /** The telephone number (DID) involved, spelled like `from` and `to`. */
  tn?: string;
  thread?: string;
  refId?: string;
  message?: string;
  /** Only on call.answered and call.flow: the call-flow command and its outcome. */
  command?: string;
  success?: boolean;
  reason?: string;
  /** What went wrong, when the command record carries an `error` (text, or its entries joined). */
  error?: string;
  /** The state of the call-flow element, e.g. `success` or `failed` (not the call's `state`). */
  commandState?: string;
  /** Per-state timestamps (ISO) when Opentact sent them. */
  initOn?: string;
  ringOn?: string;
  answerOn?: string;
  hangupOn?: string;
  destroyOn?: string;
  /** Set when the state was missed on the WSS and recovered over Opentact's REST searches. */
  recovered?: boolean;
}

export interface SmsEventData {
  messageId?: string;
  direction?: Direction;
  /** Opentact's own sub-type: smso (sent), smsi (received), smsr (delivery receipt), ... */
  smsType?: string;
  /** As for calls: E.164 where the digits carry a country code, otherwise as received. */
  from?: string;
  to?: string;
  text?: string;
  /** Opentact's `reference_id`: the link from a sent SMS back to the request that sent it. */
  referenceId?: string;
  state?: string;
  delivered?: boolean;
  /** The telephone number (DID) involved, spelled like `from` and `to`. */
  tn?: string;
  thread?: string;
  accountId?: string;
  reason?: string;
  /** Set when the message was missed on the WSS and recovered over Opentact's REST searches. */
  recovered?: boolean;
}

export interface BalanceEventData {
  amount: number;
  sourceAction?: string;
  message?: string;
  accountId?: string;
}

export interface TnOrderEventData {
  orderId?: string;
  state?: string;
  /** The numbers of the order, spelled like `tn` of calls and messages. */
  tns?: string[];
  /** Why numbers of the order failed, one line each (`<tn>: <message>` when the number is known). */
  errors?: string[];
  accountId?: string;
}

export interface RecordingEventData {
  callId?: string;
  recordingId?: string;
  url?: string;
  accountId?: string;
}

export interface TranscriptEventData {
  callId?: string;
  text?: string;
  accountId?: string;
}

/** Unknown kinds: the envelope fields that could be read, the rest is in `raw`. */
export interface PassthroughEventData {
  opentactType: string;
  message?: string;
  refId?: string;
  accountId?: string;
}

export interface WebhookTestEventData {
  subscriptionId: string;
  message: string;
}

export type EventData =
  | CallEventData
  | SmsEventData
  | BalanceEventData
  | TnOrderEventData
  | RecordingEventData
  | TranscriptEventData
  | PassthroughEventData
  | WebhookTestEventData;

/**
 * One Opentact event as the service publishes it. This is exactly the body of every webhook.
 * `id` is stable (the envelope uuid, or a hash of the frame's identifying content) so the same
 * frame received twice is the same event.
 */
export interface NormalizedEvent<D extends EventData = EventData> {
  id: string;
  type: NormalizedEventType;
  /** ISO-8601; from `created_on` / `timestamp`, or receivedAt when the frame carries neither. */
  occurredAt: string;
  /** ISO-8601, when the bridge read the frame off the socket. */
  receivedAt: string;
  data: D;
  /** The frame as received (parsed JSON). */
  raw: Record<string, unknown>;
}

export enum QuarantineReason {
  Binary = 'binary',
  TooLarge = 'too_large',
  NotJson = 'not_json',
  /** A text frame whose bytes are not UTF-8: kept byte for byte, never decoded with U+FFFD. */
  InvalidUtf8 = 'invalid_utf8',
  NotObject = 'not_object',
  MissingType = 'missing_type',
  Invalid = 'invalid',
}

/** What the normaliser makes of one frame. */
export type NormalizeOutcome =
  | { kind: 'event'; event: NormalizedEvent }
  /** An `auth` acknowledgement or another control frame: not published. */
  | { kind: 'control'; frameType: string; frame: Record<string, unknown> }
  | { kind: 'quarantine'; reason: QuarantineReason; detail: string };
