import { identityTime } from '../event-id';
import { TRANSCRIPT_ENTITY_KEYS, TranscriptFrameDto } from '../dto/transcript-frame.dto';
import { frameProblem, pick } from '../dto/validate-frame';
import { EventType } from '../event-type.enum';
import { compact, type Frame, readId, uuidOf } from '../frame-fields';
import type { TranscriptEventData } from '../normalized-event';
import {
  callIdOf,
  entitySlots,
  firstString,
  type FrameReading,
  type InvalidReading,
} from './frame-reading';

/**
 * Transcript and ASR frames are undocumented; these are the names such text is commonly given.
 * `call_asr` is the name ASR is billed under, and a slot of that name sits in the newer envelope.
 */
const TEXT_KEYS = [
  'text',
  'transcript',
  'transcription',
  'asr_text',
  'asr',
  'result',
  'speech',
] as const;
const SLOTS = ['transcript', 'call_transcript', 'call_asr'] as const;

export function readTranscript(frame: Frame): FrameReading | InvalidReading {
  const { slot, entity: transcript, side } = entitySlots(frame, ...SLOTS);
  const problem = frameProblem(TranscriptFrameDto, {
    transcript: pick(frame.transcript ?? undefined, TRANSCRIPT_ENTITY_KEYS),
    call_transcript: pick(frame.call_transcript ?? undefined, TRANSCRIPT_ENTITY_KEYS),
    call_asr: pick(frame.call_asr ?? undefined, TRANSCRIPT_ENTITY_KEYS),
    payload: slot === undefined ? pick(frame.payload, TRANSCRIPT_ENTITY_KEYS) : undefined,
  });
  if (problem !== undefined) {
    return { problem };
  }
  const data = compact<TranscriptEventData>({
    callId: callIdOf(frame, transcript),
    text: firstString(transcript, TEXT_KEYS) ?? (side && firstString(side, TEXT_KEYS)),
    accountId: uuidOf(transcript.account) ?? uuidOf(frame.account),
  });
  const transcriptId = readId(transcript.uuid);
  return {
    type: EventType.CallTranscript,
    data,
    identity:
      transcriptId === undefined && data.callId === undefined
        ? undefined
        : [transcriptId, data.callId, data.text, identityTime(transcript.modified_on)],
  };
}
