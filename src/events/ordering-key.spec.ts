import { orderingKeyOf } from './ordering-key';

describe('orderingKeyOf', () => {
  it.each<[string, Record<string, unknown>, string | undefined]>([
    ['call.live', { callId: 'c1', accountId: 'a1' }, 'call:c1'],
    ['call.hangup', { callId: 'c1' }, 'call:c1'],
    ['sms.inbound', { messageId: 'm1', callId: 'x' }, 'sms:m1'],
    ['tn.order_changed', { orderId: 'o1' }, 'tn:o1'],
    ['account.balance_changed', { accountId: 'a1', amount: 3 }, 'account:a1'],
    ['call.live', {}, undefined],
    ['call.live', { callId: '' }, undefined],
    ['call.live', { callId: 42 }, undefined],
    ['call.live', { callId: 'x'.repeat(129) }, undefined],
    ['opentact.sip_user', { callId: 'c1' }, undefined],
    ['webhook.test', { subscriptionId: 's' }, undefined],
  ])('%s %j → %s', (type, data, expected) => {
    expect(orderingKeyOf(type, data)).toBe(expected);
  });
});

describe('orderingKeyOf, edges', () => {
  it.each([null, undefined, 'c1', 42])('has no key for data that is not an object (%p)', (data) => {
    expect(orderingKeyOf('call.live', data)).toBeUndefined();
  });

  it('keeps a key of exactly the longest length, drops one longer', () => {
    expect(orderingKeyOf('call.live', { callId: 'c'.repeat(128) })).toBe(`call:${'c'.repeat(128)}`);
    expect(orderingKeyOf('call.live', { callId: 'c'.repeat(129) })).toBeUndefined();
  });
});
