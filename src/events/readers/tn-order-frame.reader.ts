import { identityTime } from '../event-id';
import { TN_ORDER_ENTITY_KEYS, TnOrderFrameDto } from '../dto/tn-order-frame.dto';
import { frameProblem, pick } from '../dto/validate-frame';
import { EventType } from '../event-type.enum';
import { compact, type Frame, readId, readString, readTn, uuidOf } from '../frame-fields';
import type { TnOrderEventData } from '../normalized-event';
import { entitySlots, errorLines, type FrameReading, type InvalidReading } from './frame-reading';

const MAX_ORDER_NUMBERS = 1_000;

/** `tns` holds number objects (`{ tn, ... }`), or bare numbers or strings; each becomes digits. */
function numbersOf(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) {
    return undefined;
  }
  const numbers = (value as unknown[])
    .slice(0, MAX_ORDER_NUMBERS)
    .map((entry) => readTn(entry))
    .filter((tn): tn is string => tn !== undefined);
  return numbers.length > 0 ? numbers : undefined;
}

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
    tns: numbersOf(order.tns ?? side?.tns),
    errors: errorLines(order.errors ?? side?.errors),
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
