import { balanceFrame, tnOrderFrame } from './account-frames';
import { callAnsweredFrame, callStateFrame, dialFailedFrame } from './call-frames';
import { callAsrFrame, callRecordFrame, transcriptFrame } from './call-media-frames';
import {
  type BuildOptions,
  type FrameBuilder,
  type FrameKind,
  type Generation,
  type SimFrame,
} from './frame-kinds';
import { unknownFrame } from './passthrough-frame';
import { smsFrame } from './sms-frames';

/** The builder of each kind; the three SMS kinds share one, told the SMS type. */
const BUILDERS: Readonly<Record<FrameKind, FrameBuilder>> = {
  call_state: callStateFrame,
  call_answered: callAnsweredFrame,
  dial_failed: dialFailedFrame,
  sms_outbound: (generation, at, options) => smsFrame(generation, at, options, 'smso'),
  sms_inbound: (generation, at, options) => smsFrame(generation, at, options, 'smsi'),
  sms_receipt: (generation, at, options) => smsFrame(generation, at, options, 'smsr'),
  balance: balanceFrame,
  tn_order: tnOrderFrame,
  call_record: callRecordFrame,
  transcript: transcriptFrame,
  call_asr: callAsrFrame,
  unknown: unknownFrame,
};

/** Builds one frame; `overrides` are merged over the top level last, so a test can bend any field. */
export function buildFrame(
  kind: FrameKind,
  generation: Generation,
  overrides?: Record<string, unknown>,
  options: BuildOptions = {},
): SimFrame {
  const frame = BUILDERS[kind](generation, options.at ?? Date.now(), options);
  return overrides ? { ...frame, ...overrides } : frame;
}
