import { balanceFrame, tnOrderFrame } from './account-frames';
import { callAnsweredFrame, callStateFrame, dialFailedFrame } from './call-frames';
import { callAsrFrame, callRecordFrame, transcriptFrame } from './call-media-frames';
import { type BuildOptions, type FrameKind, type Generation, type SimFrame } from './frame-kinds';
import { unknownFrame } from './passthrough-frame';
import { smsFrame } from './sms-frames';

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
