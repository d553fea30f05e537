import { randomUUID } from 'node:crypto';
import { callEntity, callMessage, newCall, SIP_USER, stateDurationSeconds } from './call-entity';
import { newerEnvelope, olderEnvelope, uniqueTimestamp } from './frame-envelope';
import { type FrameBuilder, FrameType } from './frame-kinds';

/** The frames of a call's progress: state changes (§4.6) and call-flow command results (§4.4-4.5). */

const DIAL_FAILURE =
  '[originate] ERR NO_USER_RESPONSE. no any destinations are accept the call 1/1.';

export const callStateFrame: FrameBuilder = (generation, at, options) => {
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
};

export const callAnsweredFrame: FrameBuilder = (generation, at, options) => {
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
};

/**
 * The failed `Dial` the Callflow page describes (§4.4): the A-leg stays live, the command reports
 * `success: false`, state `failed` and why, and the call's logs hold the Callback and the Dial.
 */
export const dialFailedFrame: FrameBuilder = (generation, at, options) => {
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
};
