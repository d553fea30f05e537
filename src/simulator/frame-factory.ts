import { createHash, randomUUID } from 'node:crypto';

/**
 * Builds Opentact WSS frames in both envelope generations, following the examples in the
 * reference (opentact.md §3–4 and the details of §7). Where the docs show no example (tn_order,
 * call_record, transcript, call_asr, the newer sms/balance envelopes) the shapes are inferred from
 * the documented pattern: small `payload`, full entity in a slot named after it, every other
 * entity slot present and null, `ref_id`, `account`.
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

export type ScenarioName =
  | 'inbound-call'
  | 'call-answered'
  | 'unanswered-dial'
  | 'outbound-sms'
  | 'inbound-sms'
  | 'sms-receipt'
  | 'balance'
  | 'tn-order'
  | 'call-record'
  | 'transcript'
  | 'call-asr'
  | 'unknown-kind'
  | 'all';

export const SCENARIO_NAMES: readonly ScenarioName[] = [
  'inbound-call',
  'call-answered',
  'unanswered-dial',
  'outbound-sms',
  'inbound-sms',
  'sms-receipt',
  'balance',
  'tn-order',
  'call-record',
  'transcript',
  'call-asr',
  'unknown-kind',
  'all',
];

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

/**
 * Entity slots of the newer envelope: null unless the frame is about that kind (§3.1, §7). Several
 * name kinds the docs have not described yet.
 */
export const NEWER_ENTITY_SLOTS = [
  'call',
  'call_flow',
  'call_record',
  'call_asr',
  'sms',
  'sms_brand',
  'sms_campaign',
  'tn',
  'tn_order',
  'tn_lease',
  'ticket',
  'sip_user',
  'sip_domain',
  'transaction',
] as const;

const NULL_SLOTS: Readonly<Record<string, null>> = Object.fromEntries(
  NEWER_ENTITY_SLOTS.map((slot) => [slot, null]),
);

const OUR_TN = '18382049000';
const REMOTE_NUMBER = '+18389999168';
/** The SIP user an inbound call is dialled to (§4.6). */
const SIP_USER = 'soupra_cool_743_gmail_com_97176442681235292623';
const DIAL_FAILURE =
  '[originate] ERR NO_USER_RESPONSE. no any destinations are accept the call 1/1.';

const ACCOUNT = {
  created_on: '2022-04-26T05:37:15.707Z',
  modified_on: '2023-12-04T05:57:32.303Z',
  uuid: '58699aff-b3dd-46b6-b428-029cde3368a4',
  email: 'info@opentact.local',
  name: 'Simulated account',
  phone: 9038479977,
  level: 'Level2',
  address1: '1 Loopback Way',
  address2: null,
  zip_code: '700004',
  city: 'Localhost',
  deleted_on: null,
  disabled_on: null,
  balance: 815.05362,
  time_zone: null,
};

const TN = {
  created_on: '2024-01-17T06:29:59.473Z',
  modified_on: '2024-01-17T08:03:54.373Z',
  tn: Number(OUR_TN),
  deleted_on: null,
};

const SIP_CONTROL_APP = {
  created_on: '2023-05-05T06:21:55.688Z',
  modified_on: '2024-01-03T12:28:49.915Z',
  uuid: '03302770-4a53-438e-adb6-7a3062d61547',
  name: 'simulated SCA',
  is_active: true,
  shaken_verify_policy: 0,
  shaken_minimum_accepted_attest_lvl: 'C',
  auto_answer: true,
  max_call_length_min: null,
};

/**
 * The app as the older call entity carries it: the General Event Fields table (§3.2) and the 2022
 * example add `tech_prefix` and the webhook settings.
 */
const OLDER_SIP_CONTROL_APP = {
  ...SIP_CONTROL_APP,
  tech_prefix: 914849,
  webhook_url: null,
  webhook_method: null,
  webhook_request_timeout: null,
};

const MESSAGING_PROFILE = {
  created_on: '2022-04-26T05:42:05.858Z',
  modified_on: '2022-04-26T05:42:05.968Z',
  uuid: '5e1c1f0e-4e8f-4f43-9d1a-7b2f4f4a2c11',
  name: 'simulated profile',
  call_back_url: null,
  call_back_url2: null,
};

/** The account snapshot as it sits in an event, with the balance of the moment. */
export function accountSnapshot(): Record<string, unknown> {
  return { ...ACCOUNT, balance: currentBalance };
}

export function accountUuid(): string {
  return ACCOUNT.uuid;
}

const FREESWITCH_STATE: Record<CallState, [call: string, channel: string]> = {
  init: ['DOWN', 'CS_INIT'],
  ringing: ['EARLY', 'CS_EXECUTE'],
  live: ['EARLY', 'CS_EXECUTE'],
  hangup: ['DOWN', 'CS_CONSUME_MEDIA'],
  destroyed: ['HANGUP', 'CS_REPORTING'],
};

const STATE_TIMESTAMP: Record<CallState, string> = {
  init: 'init_on',
  ringing: 'ring_on',
  live: 'answer_on',
  hangup: 'hangup_on',
  destroyed: 'destroy_on',
};

let currentBalance = 873.0604;
/**
 * Older balance and call_flow frames have no `payload.uuid`, so `timestamp` is what tells two of
 * them apart for the bridge's dedupe key; it is kept strictly increasing even when several are
 * built in one ms.
 */
let lastUniqueTimestamp = 0;

function uniqueTimestamp(at: number): number {
  lastUniqueTimestamp = Math.max(at, lastUniqueTimestamp + 1);
  return lastUniqueTimestamp;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function hex32(): string {
  return randomUUID().replace(/-/g, '');
}

export function newCall(direction: 'in' | 'out' = 'in', createdAt: number = Date.now()): SimCall {
  return {
    uuid: randomUUID(),
    direction,
    from: direction === 'in' ? REMOTE_NUMBER : OUR_TN,
    to: direction === 'in' ? OUR_TN : REMOTE_NUMBER.slice(1),
    thread: hex32(),
    createdAt,
  };
}

/**
 * The outbound leg an inbound call is dialled to: from our number without `+`, to a SIP user,
 * with the inbound call as its `parent` (§4.6).
 */
export function newChildLeg(parent: SimCall, createdAt: number = Date.now()): SimCall {
  return {
    uuid: randomUUID(),
    direction: 'out',
    from: parent.from.replace(/^\+/, ''),
    to: SIP_USER,
    thread: parent.thread,
    createdAt,
    parent,
  };
}

function callMessage(call: SimCall, state: string): string {
  return `CallSCA ${call.direction} ${call.from} > ${call.to} - ${state}`;
}

function durationSeconds(call: SimCall, at: number): number {
  return Math.max(1, Math.round((at - call.createdAt) / 1000));
}

/**
 * `payload.duration` beside `call.duration` in newer frames: the docs show them differing (1 and
 * 2 on one live event) without saying why; here it counts from the call's previous state change.
 */
function stateDurationSeconds(call: SimCall, at: number): number {
  return Math.max(1, Math.round((at - (call.stateSince ?? call.createdAt)) / 1000));
}

/** The A-leg as it sits in a child leg's `parent`: live, answered, with every timestamp (§4.6). */
function parentEntity(parent: SimCall, at: number): SimFrame {
  const answeredAt = Math.min(at, parent.createdAt + 1_300);
  return {
    type: 'CallSCA',
    created_on: iso(parent.createdAt),
    modified_on: iso(answeredAt),
    uuid: parent.uuid,
    state: 'live',
    direction: parent.direction,
    from: parent.from,
    to: parent.to,
    duration: durationSeconds(parent, at),
    init_on: iso(parent.createdAt + 13),
    ring_on: iso(parent.createdAt + 16),
    answer_on: iso(answeredAt),
    hangup_on: null,
    destroy_on: null,
    finished_on: null,
    q850_cause: null,
    q850_cause_string: null,
    release_cause_from_protocol_stack: null,
    stir_shaken_attest_level: null,
    stir_shaken_identity: null,
    thread: parent.thread,
    sip_user: null,
  };
}

/** The call entity: newer frames omit per-state timestamps that are null, older ones list them all. */
function callEntity(
  call: SimCall,
  state: CallState,
  at: number,
  generation: Generation,
  cause: HangupCause = NORMAL_CLEARING,
): SimFrame {
  const [fsCall, fsChannel] = FREESWITCH_STATE[state];
  const entity: SimFrame = {
    uuid: call.uuid,
    direction: call.direction,
    from: call.from,
    to: call.to,
    state,
    // The 2022 example's duration looks like milliseconds, the 2024 ones like seconds.
    duration: generation === 'older' ? Math.max(1, at - call.createdAt) : durationSeconds(call, at),
    type: 'CallSCA',
    created_on: iso(call.createdAt),
    modified_on: iso(at),
  };
  if (generation === 'older') {
    entity.state_end = null;
    for (const key of Object.values(STATE_TIMESTAMP)) {
      entity[key] = null;
    }
    entity.finished_on = null;
    entity.q850_cause = null;
    entity.q850_cause_string = null;
  }
  entity[STATE_TIMESTAMP[state]] = iso(at);
  if (state === 'hangup' || state === 'destroyed') {
    entity.q850_cause = cause.code;
    entity.q850_cause_string = cause.text;
  }
  if (state === 'destroyed') {
    entity.finished_on = iso(at);
  }
  Object.assign(entity, {
    freeswitch_call_state: fsCall,
    freeswitch_channel_state: fsChannel,
    stir_shaken_attest_level: null,
    thread: call.thread,
    parent: call.parent ? parentEntity(call.parent, at) : null,
    sip_user: null,
    tn: TN,
    sip_control_app: generation === 'older' ? OLDER_SIP_CONTROL_APP : SIP_CONTROL_APP,
    account: accountSnapshot(),
    // Listed by the Call Initiated explanation (§3.3); their values are not shown.
    country: null,
    lerg: null,
    sip_connection: null,
    hotkey: null,
    batch_item: null,
    records: [],
    logs: [],
    children: [],
  });
  return entity;
}

function newerEnvelope(type: string, message: string, at: number, rest: SimFrame): SimFrame {
  return {
    uuid: randomUUID(),
    created_on: iso(at),
    type,
    message,
    ...NULL_SLOTS,
    ...rest,
    account: accountSnapshot(),
    modified_on: iso(at),
    delivery_report: [],
  };
}

/**
 * Older frames have no envelope uuid; `sim_id` is the simulator's own id for them so tests can
 * match a delivered event to what was sent. Opentact never sends this field.
 */
function olderEnvelope(type: string, message: string, at: number, rest: SimFrame): SimFrame {
  return { timestamp: iso(at), message, type, ...rest, sim_id: randomUUID() };
}

function callStateFrame(generation: Generation, at: number, options: BuildOptions): SimFrame {
  const call = options.call ?? newCall('in', at - 1_000);
  const state = options.state ?? 'init';
  const entity = callEntity(call, state, at, generation, options.cause);
  const message = callMessage(call, state);
  const stateDuration = stateDurationSeconds(call, at);
  call.stateSince = at;
  if (generation === 'older') {
    return olderEnvelope(FrameType.CallState, message, at, { payload: entity });
  }
  return newerEnvelope(FrameType.CallState, message, at, {
    payload: { state, duration: stateDuration },
    call: entity,
    ref_id: call.uuid,
  });
}

function callAnsweredFrame(generation: Generation, at: number, options: BuildOptions): SimFrame {
  const call = options.call ?? newCall('in', at - 2_000);
  const command = {
    name: 'Answer',
    success: true,
    reason: 'Call answered',
    path: 'Answer[0]',
    children: [],
    error: [],
  };
  const message = '[success] command Answer[0], reason: Call answered';
  if (generation === 'older') {
    // §4.5: the call is still `ringing` when the Answer command result is reported.
    return olderEnvelope(FrameType.CallFlow, message, uniqueTimestamp(at), {
      success: true,
      command: 'Answer',
      payload: { command, call: callEntity(call, 'ringing', at, generation) },
    });
  }
  return newerEnvelope(FrameType.CallFlow, message, at, {
    payload: command,
    call: callEntity(call, 'live', at, generation),
    call_flow: {
      uuid: randomUUID(),
      success: true,
      state: 'success',
      reason: 'Call answered',
      name: 'Answer',
      element: { name: 'Answer', attributes: {} },
      command: 'Answer',
    },
    ref_id: call.uuid,
  });
}

/**
 * The failed `Dial` the Callflow page describes (§4.4): the A-leg stays live, the command reports
 * `success: false`, state `failed` and why, and the call's logs hold the Callback and the Dial.
 */
function dialFailedFrame(generation: Generation, at: number, options: BuildOptions): SimFrame {
  const call = options.call ?? newCall('in', at - 30_000);
  const message = `Dial: success false, reason: ${DIAL_FAILURE}`;
  const command = {
    name: 'Dial',
    success: false,
    reason: DIAL_FAILURE,
    path: 'Dial[1]',
    children: [{ name: 'To', success: false, reason: 'NO_USER_RESPONSE', path: 'Dial[1].To[0]' }],
    error: [{ name: 'Error', success: true, reason: 'NO_USER_RESPONSE', path: 'Dial[1].Error[0]' }],
  };
  const entity = callEntity(call, 'live', at, generation);
  entity.logs = [
    { name: 'Callback', success: true, path: 'Callback[0]' },
    { name: 'Dial', success: false, reason: DIAL_FAILURE, path: 'Dial[1]' },
  ];
  if (generation === 'older') {
    return olderEnvelope(FrameType.CallFlow, message, uniqueTimestamp(at), {
      success: false,
      command: 'Dial',
      payload: { command, call: entity },
    });
  }
  return newerEnvelope(FrameType.CallFlow, message, at, {
    payload: command,
    call: entity,
    call_flow: {
      uuid: randomUUID(),
      success: false,
      state: 'failed',
      reason: DIAL_FAILURE,
      name: 'Dial',
      element: [
        { name: 'To', attributes: {}, value: SIP_USER },
        { name: 'Error', attributes: {}, children: [{ name: 'Hangup' }] },
      ],
      command: `<Dial><To>${SIP_USER}</To><Error><Hangup/></Error></Dial>`,
    },
    ref_id: call.uuid,
  });
}

type SmsType = 'smso' | 'smsi' | 'smsr';

function smsFrame(
  generation: Generation,
  at: number,
  options: BuildOptions,
  smsType: SmsType,
): SimFrame {
  const created = smsType === 'smso' && options.smsCreated === true;
  const state = created ? 'created' : 'success';
  const delivered = !created && (smsType !== 'smso' || options.smsDelivered !== false);
  const uuid = options.smsUuid ?? randomUUID();
  const sent = smsType !== 'smsi';
  const entity: SimFrame = {
    type: smsType,
    created_on: iso(options.smsCreatedAt ?? at - 5_000),
    modified_on: iso(at),
    uuid,
    from: sent ? OUR_TN : REMOTE_NUMBER.slice(1),
    to: sent ? REMOTE_NUMBER.slice(1) : OUR_TN,
    // One message keeps one thread through its events.
    thread: createHash('md5').update(uuid).digest('hex'),
    message: sent ? 'Hello world' : 'Hello back',
    state,
    delivered,
    readed: false,
    // The link from a sent SMS back to the request that sent it (§7); received ones have none.
    reference_id: sent ? `ref-${uuid.slice(0, 8)}` : null,
    automated: false,
    reason: `[${smsType.toUpperCase()}][${uuid}]: tn: ${OUR_TN}, sending...`,
    tn: TN,
    account: accountSnapshot(),
    messaging_profile: MESSAGING_PROFILE,
  };
  const message = `SMS: type: ${smsType}, state: ${state}`;
  if (generation === 'older') {
    return olderEnvelope(FrameType.Sms, message, at, { payload: entity });
  }
  return newerEnvelope(FrameType.Sms, message, at, {
    payload: { type: smsType, state, delivered: entity.delivered },
    sms: entity,
    ref_id: uuid,
  });
}

function balanceFrame(generation: Generation, at: number): SimFrame {
  // A fresh amount per frame, so two balance events never look identical either.
  currentBalance = Math.round((currentBalance - 0.00015) * 100_000) / 100_000;
  const amount = currentBalance;
  const message = `New balance is ${amount}`;
  if (generation === 'older') {
    return olderEnvelope(FrameType.Balance, message, uniqueTimestamp(at), {
      source_action: 'voice_charge_in',
      payload: amount,
    });
  }
  return newerEnvelope(FrameType.Balance, message, at, {
    source_action: 'voice_charge_in',
    payload: amount,
  });
}

function tnOrderFrame(generation: Generation, at: number): SimFrame {
  const order = {
    uuid: randomUUID(),
    state: 'success',
    created_on: iso(at - 60_000),
    modified_on: iso(at),
    tns: [Number(OUR_TN)],
    account: accountSnapshot(),
  };
  const message = `TN order ${order.uuid} - ${order.state}`;
  if (generation === 'older') {
    return olderEnvelope(FrameType.TnOrder, message, at, { payload: order });
  }
  return newerEnvelope(FrameType.TnOrder, message, at, {
    payload: { uuid: order.uuid, state: order.state },
    tn_order: order,
    ref_id: order.uuid,
  });
}

function callRecordFrame(generation: Generation, at: number, options: BuildOptions): SimFrame {
  const call = options.call ?? newCall('in', at - 30_000);
  const record = {
    uuid: randomUUID(),
    call_uuid: call.uuid,
    tag: 'voicemail',
    url: `http://127.0.0.1/records/${call.uuid}.wav`,
    duration: 12,
    created_on: iso(at),
    modified_on: iso(at),
  };
  const message = `Call record ${record.uuid} available`;
  if (generation === 'older') {
    return olderEnvelope(FrameType.CallRecord, message, at, {
      payload: { ...record, call: callEntity(call, 'destroyed', at, generation) },
    });
  }
  return newerEnvelope(FrameType.CallRecord, message, at, {
    payload: { uuid: record.uuid, url: record.url, duration: record.duration },
    call: callEntity(call, 'destroyed', at, generation),
    call_record: record,
    ref_id: call.uuid,
  });
}

function transcriptFrame(generation: Generation, at: number, options: BuildOptions): SimFrame {
  const call = options.call ?? newCall('in', at - 40_000);
  const transcript = {
    uuid: randomUUID(),
    call_uuid: call.uuid,
    record_uuid: randomUUID(),
    language: 'en-US',
    text: 'Hi, this is a simulated voicemail. Please call me back.',
    created_on: iso(at),
    modified_on: iso(at),
  };
  const message = `Call transcript ${transcript.uuid} available`;
  if (generation === 'older') {
    return olderEnvelope(FrameType.CallTranscript, message, at, {
      payload: { ...transcript, call: callEntity(call, 'destroyed', at, generation) },
    });
  }
  return newerEnvelope(FrameType.CallTranscript, message, at, {
    payload: { uuid: transcript.uuid, text: transcript.text },
    call: callEntity(call, 'destroyed', at, generation),
    call_transcript: transcript,
    ref_id: call.uuid,
  });
}

/** ASR text of a recording, in the newer envelope's `call_asr` slot (§7). */
function callAsrFrame(generation: Generation, at: number, options: BuildOptions): SimFrame {
  const call = options.call ?? newCall('in', at - 45_000);
  const asr = {
    uuid: randomUUID(),
    call_uuid: call.uuid,
    language: 'en-US',
    text: 'Yes, please send the invoice by email.',
    created_on: iso(at),
    modified_on: iso(at),
  };
  const message = `ASR result for call ${call.uuid}`;
  if (generation === 'older') {
    return olderEnvelope(FrameType.CallAsr, message, uniqueTimestamp(at), {
      payload: { call_uuid: asr.call_uuid, transcript: asr.text, modified_on: asr.modified_on },
    });
  }
  return newerEnvelope(FrameType.CallAsr, message, at, {
    payload: { state: 'success' },
    call: callEntity(call, 'destroyed', at, generation),
    call_asr: asr,
    ref_id: call.uuid,
  });
}

function unknownFrame(generation: Generation, at: number): SimFrame {
  const conference = {
    uuid: randomUUID(),
    name: 'standup',
    state: 'started',
    modified_on: iso(at),
  };
  const message = `Conference ${conference.uuid} - started`;
  if (generation === 'older') {
    return olderEnvelope(FrameType.Unknown, message, at, { payload: conference });
  }
  return newerEnvelope(FrameType.Unknown, message, at, {
    payload: { state: conference.state },
    conference,
    ref_id: conference.uuid,
  });
}

/** Builds one frame; `overrides` are merged over the top level last, so a test can bend any field. */
export function buildFrame(
  kind: FrameKind,
  generation: Generation,
  overrides?: Record<string, unknown>,
  options: BuildOptions = {},
): SimFrame {
  const at = options.at ?? Date.now();
  let frame: SimFrame;
  switch (kind) {
    case 'call_state':
      frame = callStateFrame(generation, at, options);
      break;
    case 'call_answered':
      frame = callAnsweredFrame(generation, at, options);
      break;
    case 'dial_failed':
      frame = dialFailedFrame(generation, at, options);
      break;
    case 'sms_outbound':
      frame = smsFrame(generation, at, options, 'smso');
      break;
    case 'sms_inbound':
      frame = smsFrame(generation, at, options, 'smsi');
      break;
    case 'sms_receipt':
      frame = smsFrame(generation, at, options, 'smsr');
      break;
    case 'balance':
      frame = balanceFrame(generation, at);
      break;
    case 'tn_order':
      frame = tnOrderFrame(generation, at);
      break;
    case 'call_record':
      frame = callRecordFrame(generation, at, options);
      break;
    case 'transcript':
      frame = transcriptFrame(generation, at, options);
      break;
    case 'call_asr':
      frame = callAsrFrame(generation, at, options);
      break;
    case 'unknown':
      frame = unknownFrame(generation, at);
      break;
  }
  return overrides ? { ...frame, ...overrides } : frame;
}

/** The id a test can match against `sentLog`: the envelope uuid, else the simulator's `sim_id`. */
export function frameLogId(frame: Record<string, unknown>): string | undefined {
  if (typeof frame.uuid === 'string') {
    return frame.uuid;
  }
  if (typeof frame.sim_id === 'string') {
    return frame.sim_id;
  }
  return undefined;
}

/** Offsets (ms before now) of a realistic inbound call: ring, answer after ~1 s, 9 s talk. */
const INBOUND_CALL_OFFSETS: Record<CallState, number> = {
  init: 10_200,
  ringing: 10_150,
  live: 9_000,
  hangup: 40,
  destroyed: 0,
};

function singleKindScenario(kind: FrameKind, generation: Generation, now: number): SimFrame[] {
  return [buildFrame(kind, generation, undefined, { at: now })];
}

/** The frames of one scenario, in the order they are sent; timestamps increase and end at `now`. */
export function buildScenario(
  name: ScenarioName,
  generation: Generation,
  now: number = Date.now(),
): SimFrame[] {
  switch (name) {
    case 'inbound-call': {
      const call = newCall('in', now - 10_250);
      return CALL_STATES.map((state) =>
        buildFrame('call_state', generation, undefined, {
          call,
          state,
          at: now - INBOUND_CALL_OFFSETS[state],
        }),
      );
    }
    case 'call-answered':
      return singleKindScenario('call_answered', generation, now);
    case 'unanswered-dial': {
      // The A-leg is live; its child leg to a SIP user rings out unanswered (cause 18), and the
      // Dial command reports the failure.
      const call = newCall('in', now - 32_000);
      const leg = newChildLeg(call, now - 31_000);
      return [
        buildFrame('call_state', generation, undefined, {
          call: leg,
          state: 'init',
          at: now - 30_900,
        }),
        buildFrame('call_state', generation, undefined, {
          call: leg,
          state: 'hangup',
          at: now - 100,
          cause: NO_USER_RESPONSE,
        }),
        buildFrame('dial_failed', generation, undefined, { call, at: now }),
      ];
    }
    case 'outbound-sms': {
      // §4.9: one outbound SMS gives at least two events: sent (`success`, not yet delivered),
      // then delivered (`delivered` false -> true), the same message in the same state.
      const smsUuid = randomUUID();
      const smsCreatedAt = now - 9_000;
      return [
        buildFrame('sms_outbound', generation, undefined, {
          at: now - 4_000,
          smsDelivered: false,
          smsUuid,
          smsCreatedAt,
        }),
        buildFrame('sms_outbound', generation, undefined, { at: now, smsUuid, smsCreatedAt }),
      ];
    }
    case 'inbound-sms':
      return singleKindScenario('sms_inbound', generation, now);
    case 'sms-receipt':
      return singleKindScenario('sms_receipt', generation, now);
    case 'balance':
      return singleKindScenario('balance', generation, now);
    case 'tn-order':
      return singleKindScenario('tn_order', generation, now);
    case 'call-record':
      return singleKindScenario('call_record', generation, now);
    case 'transcript':
      return singleKindScenario('transcript', generation, now);
    case 'call-asr':
      return singleKindScenario('call_asr', generation, now);
    case 'unknown-kind':
      return singleKindScenario('unknown', generation, now);
    case 'all':
      return SCENARIO_NAMES.filter((scenario) => scenario !== 'all').flatMap((scenario) =>
        buildScenario(scenario, generation, now),
      );
  }
}

export function isScenarioName(value: unknown): value is ScenarioName {
  return typeof value === 'string' && (SCENARIO_NAMES as readonly string[]).includes(value);
}

export function isGeneration(value: unknown): value is Generation {
  return value === 'newer' || value === 'older';
}
