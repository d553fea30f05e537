import { identityTime } from '../event-id';
import { BalanceFrameDto } from '../dto/balance-frame.dto';
import { balanceAmountOf } from '../dto/frame-constraints';
import { frameProblem, pick } from '../dto/validate-frame';
import { EventType } from '../event-type.enum';
import { asRecord, compact, type Frame, readString, uuidOf } from '../frame-fields';
import type { BalanceEventData } from '../normalized-event';
import type { FrameReading, InvalidReading } from './frame-reading';

export function readBalance(frame: Frame): FrameReading | InvalidReading {
  const problem = frameProblem(BalanceFrameDto, {
    payload: pick(frame.payload, ['balance', 'amount']),
  });
  const amount = balanceAmountOf(frame.payload);
  if (problem !== undefined || amount === undefined) {
    return { problem: problem ?? 'payload: balance payload must be a number' };
  }
  const payload = asRecord(frame.payload);
  const data = compact<BalanceEventData>({
    amount,
    sourceAction: readString(frame.source_action) ?? readString(payload?.source_action),
    message: readString(frame.message),
    accountId: uuidOf(frame.account) ?? uuidOf(payload?.account),
  });
  // A balance event has no entity uuid: without a timestamp nothing tells two frames apart.
  const timed =
    identityTime(frame.timestamp) !== undefined || identityTime(frame.created_on) !== undefined;
  return {
    type: EventType.AccountBalanceChanged,
    data,
    identity: timed ? [amount, data.sourceAction, data.accountId] : undefined,
  };
}
