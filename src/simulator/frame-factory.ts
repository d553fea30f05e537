/**
 * Builds Opentact WSS frames in both envelope generations, following the examples in the
 * reference (opentact.md §3–4 and the details of §7). Where the docs show no example (tn_order,
 * call_record, transcript, call_asr, the newer sms/balance envelopes) the shapes are inferred from
 * the documented pattern: small `payload`, full entity in a slot named after it, every other
 * entity slot present and null, `ref_id`, `account`.
 *
 * The entry point other folders and tests import; the builders live in `frames/`, one file per
 * kind of frame.
 */
export { accountSnapshot } from './frames/account';
export { buildFrame } from './frames/build-frame';
export { newCall, newChildLeg } from './frames/call-entity';
export { frameLogId, NEWER_ENTITY_SLOTS } from './frames/frame-envelope';
export {
  type BuildOptions,
  CALL_STATES,
  type CallState,
  FRAME_KINDS,
  type FrameKind,
  FrameType,
  type Generation,
  GENERATIONS,
  type HangupCause,
  isGeneration,
  NO_USER_RESPONSE,
  NORMAL_CLEARING,
  type SimCall,
  type SimFrame,
} from './frames/frame-kinds';
export {
  buildScenario,
  isScenarioName,
  SCENARIO_NAMES,
  type ScenarioName,
} from './frames/frame-scenarios';
