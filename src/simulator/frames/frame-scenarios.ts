import { randomUUID } from 'node:crypto';
import { buildFrame } from './build-frame';
import { newCall, newChildLeg } from './call-entity';
import {
  CALL_STATES,
  type CallState,
  type FrameKind,
  type Generation,
  NO_USER_RESPONSE,
  type SimFrame,
} from './frame-kinds';

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

/** Offsets (ms before now) of a realistic inbound call: ring, answer after ~1 s, 9 s talk. */
const INBOUND_CALL_OFFSETS: Record<CallState, number> = {
  init: 10_200,
  ringing: 10_150,
  live: 9_000,
  hangup: 40,
  destroyed: 0,
};

type SingleFrameScenario = Exclude<
  ScenarioName,
  'inbound-call' | 'unanswered-dial' | 'outbound-sms' | 'all'
>;

/** The scenarios of one frame, and the kind of that frame. */
const SINGLE_FRAME_SCENARIOS: Readonly<Record<SingleFrameScenario, FrameKind>> = {
  'call-answered': 'call_answered',
  'inbound-sms': 'sms_inbound',
  'sms-receipt': 'sms_receipt',
  balance: 'balance',
  'tn-order': 'tn_order',
  'call-record': 'call_record',
  transcript: 'transcript',
  'call-asr': 'call_asr',
  'unknown-kind': 'unknown',
};

function isSingleFrame(name: ScenarioName): name is SingleFrameScenario {
  return Object.hasOwn(SINGLE_FRAME_SCENARIOS, name);
}

/** The frames of one scenario, in the order they are sent; timestamps increase and end at `now`. */
export function buildScenario(
  name: ScenarioName,
  generation: Generation,
  now: number = Date.now(),
): SimFrame[] {
  if (isSingleFrame(name)) {
    return [buildFrame(SINGLE_FRAME_SCENARIOS[name], generation, undefined, { at: now })];
  }
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
    case 'all':
      return SCENARIO_NAMES.filter((scenario) => scenario !== 'all').flatMap((scenario) =>
        buildScenario(scenario, generation, now),
      );
  }
}

export function isScenarioName(value: unknown): value is ScenarioName {
  return typeof value === 'string' && (SCENARIO_NAMES as readonly string[]).includes(value);
}
