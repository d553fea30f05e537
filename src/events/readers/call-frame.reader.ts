import { identityTime } from '../event-id';
import { CALL_ENTITY_KEYS, CallFlowFrameDto, CallStateFrameDto } from '../dto/call-frame.dto';
import { frameProblem, pick } from '../dto/validate-frame';
import { EventType } from '../event-type.enum';
import {
  asRecord,
  compact,
  type Frame,
  isRecord,
  readBoolean,
  readDirection,
  readId,
  readIsoTime,
  readNumber,
  readPhone,
  readString,
  readTn,
  uuidOf,
} from '../frame-fields';
import type { CallEventData } from '../normalized-event';
import { errorLines, type FrameReading, type InvalidReading } from './frame-reading';

const CALL_STATE_TYPES: ReadonlyMap<string, EventType> = new Map([
  ['init', EventType.CallInitiated],
  ['ringing', EventType.CallRinging],
  ['live', EventType.CallLive],
  ['hangup', EventType.CallHangup],
  ['destroyed', EventType.CallDestroyed],
]);

const ANSWER_COMMAND = 'answer';

export function readCallState(frame: Frame): FrameReading | InvalidReading {
  const callSlot = frame.call ?? undefined;
  const problem = frameProblem(
    CallStateFrameDto,
    callSlot === undefined
      ? { payload: pick(frame.payload, CALL_ENTITY_KEYS) }
      : { call: pick(callSlot, CALL_ENTITY_KEYS), payload: pick(frame.payload, ['state']) },
  );
  if (problem !== undefined) {
    return { problem };
  }
  const call = asRecord(callSlot) ?? asRecord(frame.payload) ?? {};
  // Newer frames: `payload` is `{ state, duration }` beside the call, and is the fresher value.
  const side = callSlot === undefined ? undefined : asRecord(frame.payload);
  const state = readString(side?.state) ?? readString(call.state);
  const duration = readNumber(side?.duration) ?? readNumber(call.duration);
  const data = callData(call, frame, state, duration);
  return {
    type: CALL_STATE_TYPES.get(state?.toLowerCase() ?? '') ?? EventType.CallStateChanged,
    data,
    identity:
      data.callId === undefined
        ? undefined
        : [data.callId, state, identityTime(call.modified_on), duration],
  };
}

export function readCallFlow(frame: Frame): FrameReading | InvalidReading {
  const payload = asRecord(frame.payload);
  const problem = frameProblem(CallFlowFrameDto, {
    call: pick(frame.call ?? undefined, CALL_ENTITY_KEYS),
    payload:
      payload === undefined
        ? (frame.payload ?? undefined)
        : { call: pick(payload.call ?? undefined, CALL_ENTITY_KEYS) },
    call_flow: pick(frame.call_flow ?? undefined, []),
    command: frame.command ?? undefined,
  });
  if (problem !== undefined) {
    return { problem };
  }
  const call = asRecord(frame.call) ?? asRecord(payload?.call) ?? {};
  const flow = asRecord(frame.call_flow);
  const payloadCommand = asRecord(payload?.command);
  const command =
    readString(frame.command) ??
    readString(payloadCommand?.name) ??
    readString(payload?.command) ??
    readString(flow?.name) ??
    commandName(flow?.command) ??
    // Newer frames may make `payload` the command record itself, or just its name.
    readString(payload?.name) ??
    readString(frame.payload);
  const state = readString(call.state);
  const data: CallEventData = callData(call, frame, state, readNumber(call.duration));
  Object.assign(
    data,
    compact({
      command,
      success:
        readBoolean(frame.success) ??
        readBoolean(payloadCommand?.success) ??
        readBoolean(flow?.success) ??
        readBoolean(payload?.success),
      reason:
        readString(payloadCommand?.reason) ??
        readString(flow?.reason) ??
        readString(payload?.reason),
      error: errorLines(payloadCommand?.error ?? flow?.error ?? payload?.error)?.join('; '),
      commandState:
        readString(flow?.state) ??
        readString(asRecord(flow?.element)?.state) ??
        readString(payloadCommand?.state),
    }),
  );
  const anchor = data.callId ?? uuidOf(flow);
  return {
    type: command?.toLowerCase() === ANSWER_COMMAND ? EventType.CallAnswered : EventType.CallFlow,
    data,
    identity:
      anchor === undefined
        ? undefined
        : [
            anchor,
            state,
            identityTime(call.modified_on),
            command,
            readString(payloadCommand?.path) ?? readString(payload?.path),
            uuidOf(flow),
          ],
  };
}

function commandName(value: unknown): string | undefined {
  return isRecord(value) ? readString(value.name) : readString(value);
}

function callData(
  call: Record<string, unknown>,
  frame: Frame,
  state: string | undefined,
  duration: number | undefined,
): CallEventData {
  return compact<CallEventData>({
    callId: readId(call.uuid),
    direction: readDirection(call.direction),
    from: readPhone(call.from),
    to: readPhone(call.to),
    state,
    duration,
    parentCallId: uuidOf(call.parent),
    q850Cause: readNumber(call.q850_cause),
    q850CauseString: readString(call.q850_cause_string),
    // The prose of the docs spells it `sipcontrol_app`; the JSON examples use `sip_control_app`.
    sipControlAppId: uuidOf(call.sip_control_app) ?? uuidOf(call.sipcontrol_app),
    accountId: uuidOf(call.account) ?? uuidOf(frame.account),
    tn: readTn(call.tn),
    thread: readString(call.thread),
    refId: readString(frame.ref_id),
    message: readString(frame.message),
    initOn: readIsoTime(call.init_on),
    ringOn: readIsoTime(call.ring_on),
    answerOn: readIsoTime(call.answer_on),
    hangupOn: readIsoTime(call.hangup_on),
    destroyOn: readIsoTime(call.destroy_on),
  });
}
