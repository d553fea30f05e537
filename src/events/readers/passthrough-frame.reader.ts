import { asRecord, compact, type Frame, readString, uuidOf } from '../frame-fields';
import { passthroughTypeOf } from '../frame-kind';
import type { PassthroughEventData } from '../normalized-event';
import type { FrameReading } from './frame-reading';

/**
 * Kinds the bridge does not model are published, never dropped, with the whole frame in `raw`.
 * Their id is always the hash of the whole frame: with no known identifying fields, anything less
 * could make two different events collide.
 */
export function readPassthrough(frame: Frame, frameKey: string): FrameReading {
  const type = passthroughTypeOf(frameKey);
  return {
    type,
    data: compact<PassthroughEventData>({
      // Opentact's own name as sent; the event type carries the sanitised form.
      opentactType: readString(frame.type) ?? frameKey,
      message: readString(frame.message),
      refId: readString(frame.ref_id),
      accountId: uuidOf(frame.account) ?? uuidOf(asRecord(frame.payload)?.account),
    }),
    identity: undefined,
  };
}
