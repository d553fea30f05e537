import { randomUUID } from 'node:crypto';
import { accountSnapshot, OUR_TN, REMOTE_NUMBER, TN } from './account';
import { iso } from './frame-envelope';
import {
  type CallState,
  type Generation,
  type HangupCause,
  NORMAL_CLEARING,
  type SimCall,
  type SimFrame,
} from './frame-kinds';

/** The call entity every call frame carries, and the calls (and child legs) it describes. */

/** The SIP user an inbound call is dialled to (§4.6). */
export const SIP_USER = 'soupra_cool_743_gmail_com_97176442681235292623';

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

export function callMessage(call: SimCall, state: string): string {
  return `CallSCA ${call.direction} ${call.from} > ${call.to} - ${state}`;
}

function durationSeconds(call: SimCall, at: number): number {
  return Math.max(1, Math.round((at - call.createdAt) / 1000));
}

/**
 * `payload.duration` beside `call.duration` in newer frames: the docs show them differing (1 and
 * 2 on one live event) without saying why; here it counts from the call's previous state change.
 */
export function stateDurationSeconds(call: SimCall, at: number): number {
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
export function callEntity(
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
