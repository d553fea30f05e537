import { identityTime } from '../event-id';
import { CALL_RECORD_ENTITY_KEYS, CallRecordFrameDto } from '../dto/call-record-frame.dto';
import { frameProblem, pick } from '../dto/validate-frame';
import { EventType } from '../event-type.enum';
import { compact, type Frame, readId, uuidOf } from '../frame-fields';
import type { RecordingEventData } from '../normalized-event';
import {
  callIdOf,
  entitySlots,
  firstString,
  type FrameReading,
  type InvalidReading,
} from './frame-reading';

/** Recording frames are undocumented; these are the names such a link is commonly given. */
const URL_KEYS = ['url', 'record_url', 'recording_url', 'file_url', 'link', 'uri'] as const;

export function readCallRecord(frame: Frame): FrameReading | InvalidReading {
  const { slot, entity: record, side } = entitySlots(frame, 'call_record');
  const problem = frameProblem(
    CallRecordFrameDto,
    slot === undefined
      ? { payload: pick(frame.payload, CALL_RECORD_ENTITY_KEYS) }
      : { call_record: pick(slot, CALL_RECORD_ENTITY_KEYS) },
  );
  if (problem !== undefined) {
    return { problem };
  }
  const data = compact<RecordingEventData>({
    callId: callIdOf(frame, record),
    recordingId: readId(record.uuid),
    url: firstString(record, URL_KEYS) ?? (side && firstString(side, URL_KEYS)),
    accountId: uuidOf(record.account) ?? uuidOf(frame.account),
  });
  const anchor = data.recordingId ?? data.callId;
  return {
    type: EventType.CallRecording,
    data,
    identity:
      anchor === undefined
        ? undefined
        : [data.recordingId, data.callId, data.url, identityTime(record.modified_on)],
  };
}
