import { randomUUID } from 'node:crypto';
import { accountSnapshot, nextBalance, OUR_TN } from './account';
import { iso, newerEnvelope, olderEnvelope, uniqueTimestamp } from './frame-envelope';
import { FrameType, type Generation, type SimFrame } from './frame-kinds';

/** Frames about the account rather than a call or a message: balance changes and number orders. */

export function balanceFrame(generation: Generation, at: number): SimFrame {
  const amount = nextBalance();
  const message = `New balance is ${amount}`;
  if (generation === 'older') {
    return olderEnvelope(FrameType.Balance, message, uniqueTimestamp(at), {
      source_action: 'voice_charge_in',
      payload: amount,
    });
  }
  return newerEnvelope(FrameType.Balance, message, at, {
    source_action: 'voice_charge_in',
    payload: amount,
  });
}

export function tnOrderFrame(generation: Generation, at: number): SimFrame {
  const order = {
    uuid: randomUUID(),
    state: 'success',
    created_on: iso(at - 60_000),
    modified_on: iso(at),
    tns: [Number(OUR_TN)],
    account: accountSnapshot(),
  };
  const message = `TN order ${order.uuid} - ${order.state}`;
  if (generation === 'older') {
    return olderEnvelope(FrameType.TnOrder, message, at, { payload: order });
  }
  return newerEnvelope(FrameType.TnOrder, message, at, {
    payload: { uuid: order.uuid, state: order.state },
    tn_order: order,
    ref_id: order.uuid,
  });
}
