import { randomUUID } from 'node:crypto';
import { iso, newerEnvelope, olderEnvelope } from './frame-envelope';
import { FrameType, type Generation, type SimFrame } from './frame-kinds';

/** A kind the bridge does not know (a conference), to exercise its pass-through path. */

export function unknownFrame(generation: Generation, at: number): SimFrame {
  const conference = {
    uuid: randomUUID(),
    name: 'standup',
    state: 'started',
    modified_on: iso(at),
  };
  const message = `Conference ${conference.uuid} - started`;
  if (generation === 'older') {
    return olderEnvelope(FrameType.Unknown, message, at, { payload: conference });
  }
  return newerEnvelope(FrameType.Unknown, message, at, {
    payload: { state: conference.state },
    conference,
    ref_id: conference.uuid,
  });
}
