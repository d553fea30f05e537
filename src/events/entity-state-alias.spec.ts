import { entityStateAlias } from './entity-state-alias';

describe('entityStateAlias', () => {
  it('names a call state by call and state, whatever the event type spelling of the state', () => {
    expect(entityStateAlias('call.live', { callId: 'c1', state: 'LIVE' })).toBe('call:c1:live');
    expect(entityStateAlias('call.state_changed', { callId: 'c1', state: 'online' })).toBe(
      'call:c1:online',
    );
  });

  it('keeps a receipt and the message it updates apart, even in one state', () => {
    const sent = entityStateAlias('sms.outbound', { messageId: 'm1', state: 'success' });
    const receipt = entityStateAlias('sms.updated', { messageId: 'm1', state: 'success' });
    expect(sent).toBe('sms:m1:sms.outbound:success');
    expect(receipt).toBe('sms:m1:sms.updated:success');
  });

  it('keeps a sent message and its delivery apart: delivered is part of the state', () => {
    // The documented pair (reference §4.9): sent is `success` + not delivered, then delivered.
    const sent = entityStateAlias('sms.outbound', {
      messageId: 'm1',
      state: 'success',
      delivered: false,
    });
    const delivered = entityStateAlias('sms.outbound', {
      messageId: 'm1',
      state: 'success',
      delivered: true,
    });
    expect(sent).toBe('sms:m1:sms.outbound:success:undelivered');
    expect(delivered).toBe('sms:m1:sms.outbound:success:delivered');
    expect(
      entityStateAlias('sms.updated', { messageId: 'm1', state: 'success', delivered: true }),
    ).toBe('sms:m1:sms.updated:success:delivered');
  });

  it('names a state without a delivered flag apart from both flags, and ignores a non-boolean one', () => {
    const none = entityStateAlias('sms.inbound', { messageId: 'm1', state: 'success' });
    expect(none).toBe('sms:m1:sms.inbound:success');
    expect(
      entityStateAlias('sms.inbound', { messageId: 'm1', state: 'success', delivered: 'true' }),
    ).toBe(none);
    expect(
      entityStateAlias('sms.inbound', { messageId: 'm1', state: 'success', delivered: false }),
    ).not.toBe(none);
  });

  it('gives a recovered state and the same state read on the WSS one alias', () => {
    // What the recoverer normalises (the REST entity, no smso/smsi) and what the socket carried.
    const wss = { messageId: 'm1', direction: 'outbound', state: 'success', delivered: true };
    const recovered = { ...wss, recovered: true, text: 'Hello world' };
    expect(entityStateAlias('sms.outbound', recovered)).toBe(entityStateAlias('sms.outbound', wss));
    expect(entityStateAlias('sms.outbound', { ...recovered, delivered: false })).not.toBe(
      entityStateAlias('sms.outbound', wss),
    );
  });

  it('leaves a call state alias as it was: delivered means nothing to a call', () => {
    expect(entityStateAlias('call.live', { callId: 'c1', state: 'live', delivered: true })).toBe(
      'call:c1:live',
    );
  });

  it('has none for events REST cannot recover, or without an entity id or a state', () => {
    expect(entityStateAlias('call.answered', { callId: 'c1', state: 'live' })).toBeUndefined();
    expect(entityStateAlias('call.recording', { callId: 'c1', state: 'x' })).toBeUndefined();
    expect(entityStateAlias('call.live', { state: 'live' })).toBeUndefined();
    expect(entityStateAlias('sms.inbound', { messageId: 'm1' })).toBeUndefined();
    expect(
      entityStateAlias('call.live', { callId: 'x'.repeat(200), state: 'live' }),
    ).toBeUndefined();
    expect(entityStateAlias('call.live', null)).toBeUndefined();
  });

  it('takes entity ids and states of 1 to 128 characters, strings only', () => {
    const id = 'c'.repeat(128);
    expect(entityStateAlias('call.live', { callId: id, state: 'live' })).toBe(`call:${id}:live`);
    expect(entityStateAlias('call.live', { callId: `${id}c`, state: 'live' })).toBeUndefined();
    expect(entityStateAlias('call.live', { callId: 'c1', state: '' })).toBeUndefined();
    expect(entityStateAlias('call.live', { callId: '', state: 'live' })).toBeUndefined();
    expect(entityStateAlias('call.live', { callId: 'c1', state: 5 })).toBeUndefined();
    expect(entityStateAlias('call.live', { callId: 7, state: 'live' })).toBeUndefined();
  });

  it('names an SMS only by its message id, and no other kind by one', () => {
    expect(entityStateAlias('sms.inbound', { callId: 'c1', state: 'x' })).toBeUndefined();
    expect(entityStateAlias('account.balance', { messageId: 'm1', state: 'x' })).toBeUndefined();
    expect(entityStateAlias('call.live', { messageId: 'm1', state: 'live' })).toBeUndefined();
  });
});
