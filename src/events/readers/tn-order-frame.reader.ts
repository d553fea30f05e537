import { identityTime } from '../event-id';
import { TN_ORDER_ENTITY_KEYS, TnOrderFrameDto } from '../dto/tn-order-frame.dto';
import { frameProblem, pick } from '../dto/validate-frame';
import { EventType } from '../event-type.enum';
import { compact, type Frame, readId, readString, uuidOf } from '../frame-fields';
import type { TnOrderEventData } from '../normalized-event';
import { entitySlots, type FrameReading, type InvalidReading } from './frame-reading';

export function readTnOrder(frame: Frame): FrameReading | InvalidReading {
  const { slot, entity: order, side } = entitySlots(frame, 'tn_order');
  const problem = frameProblem(
    TnOrderFrameDto,
    slot === undefined
      ? { payload: pick(frame.payload, TN_ORDER_ENTITY_KEYS) }
      : { tn_order: pick(slot, TN_ORDER_ENTITY_KEYS) },
  );
  if (problem !== undefined) {
    return { problem };
  }
  const data = compact<TnOrderEventData>({
    orderId: readId(order.uuid),
    state: readString(side?.state) ?? readString(order.state),
    accountId: uuidOf(order.account) ?? uuidOf(frame.account),
  });
  return {
    type: EventType.TnOrderChanged,
    data,
    identity:
      data.orderId === undefined
        ? undefined
        : [data.orderId, data.state, identityTime(order.modified_on)],
  };
}
