import { createHash, randomUUID } from 'node:crypto';
import { accountSnapshot, OUR_TN, REMOTE_NUMBER, TN } from './account';
import { iso, newerEnvelope, olderEnvelope } from './frame-envelope';
import { type BuildOptions, FrameType, type Generation, type SimFrame } from './frame-kinds';

/** SMS frames: sent (`smso`), received (`smsi`) and receipts (`smsr`), §4.9. */

const MESSAGING_PROFILE = {
  created_on: '2022-04-26T05:42:05.858Z',
  modified_on: '2022-04-26T05:42:05.968Z',
  uuid: '5e1c1f0e-4e8f-4f43-9d1a-7b2f4f4a2c11',
  name: 'simulated profile',
  call_back_url: null,
  call_back_url2: null,
};

export type SmsType = 'smso' | 'smsi' | 'smsr';

export function smsFrame(
  generation: Generation,
  at: number,
  options: BuildOptions,
  smsType: SmsType,
): SimFrame {
  const created = smsType === 'smso' && options.smsCreated === true;
  const state = created ? 'created' : 'success';
  const delivered = !created && (smsType !== 'smso' || options.smsDelivered !== false);
  const uuid = options.smsUuid ?? randomUUID();
  const sent = smsType !== 'smsi';
  const entity: SimFrame = {
    type: smsType,
    created_on: iso(options.smsCreatedAt ?? at - 5_000),
    modified_on: iso(at),
    uuid,
    from: sent ? OUR_TN : REMOTE_NUMBER.slice(1),
    to: sent ? REMOTE_NUMBER.slice(1) : OUR_TN,
    // One message keeps one thread through its events.
    thread: createHash('md5').update(uuid).digest('hex'),
    message: sent ? 'Hello world' : 'Hello back',
    state,
    delivered,
    readed: false,
    // The link from a sent SMS back to the request that sent it (§7); received ones have none.
    reference_id: sent ? `ref-${uuid.slice(0, 8)}` : null,
    automated: false,
    reason: `[${smsType.toUpperCase()}][${uuid}]: tn: ${OUR_TN}, sending...`,
    tn: TN,
    account: accountSnapshot(),
    messaging_profile: MESSAGING_PROFILE,
  };
  const message = `SMS: type: ${smsType}, state: ${state}`;
  if (generation === 'older') {
    return olderEnvelope(FrameType.Sms, message, at, { payload: entity });
  }
  return newerEnvelope(FrameType.Sms, message, at, {
    payload: { type: smsType, state, delivered: entity.delivered },
    sms: entity,
    ref_id: uuid,
  });
}
