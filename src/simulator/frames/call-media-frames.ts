import { randomUUID } from 'node:crypto';
import { callEntity, newCall } from './call-entity';
import { newerEnvelope, olderEnvelope, uniqueTimestamp, iso } from './frame-envelope';
import { type FrameBuilder, FrameType } from './frame-kinds';

/** What a finished call leaves behind: its recording, the transcript and the ASR result (§7). */

export const callRecordFrame: FrameBuilder = (generation, at, options) => {
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
};

export const transcriptFrame: FrameBuilder = (generation, at, options) => {
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
};

/** ASR text of a recording, in the newer envelope's `call_asr` slot (§7). */
export const callAsrFrame: FrameBuilder = (generation, at, options) => {
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
};
