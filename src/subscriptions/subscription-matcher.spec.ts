import { EventType, type NormalizedEventType } from '../events/event-type.enum';
import {
  compileSubscription,
  matchesEventType,
  matchesFilter,
  type MatchableEvent,
} from './subscription-matcher';
import type { Subscription, SubscriptionFilter } from './subscription.model';

function event(type: string, data: Record<string, unknown> = {}): MatchableEvent {
  return { type: type as NormalizedEventType, data };
}

describe('matchesEventType', () => {
  it.each<[string[], string, boolean]>([
    [['call.ringing'], 'call.ringing', true],
    [['call.ringing'], 'call.live', false],
    [['*'], 'sms.inbound', true],
    [['*'], 'opentact.brand_new', true],
    [['call.*'], 'call.hangup', true],
    [['call.*'], 'callx.hangup', false],
    [['call.*'], 'sms.inbound', false],
    [['sms.*', 'call.live'], 'call.live', true],
    [['sms.*', 'call.live'], 'sms.updated', true],
    [['opentact.*'], 'opentact.fax', true],
    [['opentact.*'], 'call.live', false],
    [['opentact.fax'], 'opentact.fax', true],
    [['opentact.fax'], 'opentact.fax2', false],
    [[], 'call.live', false],
    [['call'], 'call.live', false],
  ])('%j against %s → %s', (patterns, type, expected) => {
    expect(matchesEventType(patterns, type)).toBe(expected);
  });
});

describe('matchesFilter', () => {
  const data = { direction: 'inbound', from: '15550001111', to: '15550002222', tn: '15550002222' };

  it.each<[SubscriptionFilter | undefined, Record<string, unknown>, boolean]>([
    [undefined, data, true],
    [{}, data, true],
    [{ direction: 'inbound' }, data, true],
    [{ direction: 'outbound' }, data, false],
    [{ direction: ['outbound', 'inbound'] }, data, true],
    [{ direction: [] }, data, false],
    [{ direction: 'inbound', to: '15550002222' }, data, true],
    [{ direction: 'inbound', to: '15559999999' }, data, false],
    [{ tn: ['1', '15550002222'] }, data, true],
    [{ from: '15550001111' }, { direction: 'inbound' }, false],
    [{ direction: 'inbound' }, {}, false],
    [{ tn: '42' }, { tn: 42 }, true],
    [{ tn: '[object Object]' }, { tn: {} }, false],
  ])('%j on %j → %s', (filter, eventData, expected) => {
    expect(matchesFilter(filter, event(EventType.CallRinging, eventData))).toBe(expected);
  });
});

describe('matchesFilter on telephone numbers', () => {
  const inbound = { from: '+15550001111', to: '+15550002222', tn: '15550002222' };

  it.each<[SubscriptionFilter, Record<string, unknown>, boolean]>([
    [{ from: '15550001111' }, inbound, true],
    [{ from: '+15550001111' }, inbound, true],
    [{ from: ['+15559999999', '15550001111'] }, inbound, true],
    [{ to: '15550002222' }, inbound, true],
    [{ tn: '+15550002222' }, inbound, true],
    [{ tn: '15550002222' }, { tn: 15550002222 }, true],
    [{ from: '+15550001111' }, { from: '15550001111' }, true],
    [{ from: '5550001111' }, inbound, false],
    [{ from: '+15550001112' }, inbound, false],
    [{ to: 'soupra_cool_743' }, { to: 'soupra_cool_743' }, true],
    [{ to: '+soupra_cool_743' }, { to: 'soupra_cool_743' }, false],
    [{ direction: '+inbound' }, { direction: 'inbound' }, false],
  ])('%j on %j → %s', (filter, eventData, expected) => {
    expect(matchesFilter(filter, event(EventType.SmsInbound, eventData))).toBe(expected);
    expect(compileSubscriptionFor(filter).matches(event(EventType.SmsInbound, eventData))).toBe(
      expected,
    );
  });
});

function compileSubscriptionFor(
  filter: SubscriptionFilter,
): ReturnType<typeof compileSubscription> {
  return compileSubscription({
    id: 'sub_numbers',
    url: 'https://example.com/hook',
    eventTypes: ['*'],
    secrets: [{ secret: 'whsec_x', createdAt: '2026-01-01T00:00:00.000Z' }],
    headers: {},
    filter,
    enabled: true,
    source: 'api',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
}

describe('compileSubscription', () => {
  const base: Subscription = {
    id: 'sub_1',
    url: 'https://example.com/hook',
    eventTypes: ['call.*', EventType.SmsInbound],
    secrets: [{ secret: 'whsec_x', createdAt: '2026-01-01T00:00:00.000Z' }],
    headers: {},
    filter: { direction: 'inbound' },
    enabled: true,
    source: 'api',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };

  it.each<[string, Record<string, unknown>, boolean]>([
    [EventType.CallLive, { direction: 'inbound' }, true],
    [EventType.CallLive, { direction: 'outbound' }, false],
    [EventType.SmsInbound, { direction: 'inbound' }, true],
    [EventType.SmsOutbound, { direction: 'inbound' }, false],
    [EventType.AccountBalanceChanged, { amount: 1 }, false],
  ])('%s with %j → %s', (type, eventData, expected) => {
    const compiled = compileSubscription(base);
    expect(compiled.id).toBe('sub_1');
    expect(compiled.matches(event(type, eventData))).toBe(expected);
    // The two-step form decides the same.
    expect(compiled.matchesLazily(type, () => eventData as never)).toBe(expected);
  });

  it('reads the data lazily only for a type that matches and a subscription that filters', () => {
    let reads = 0;
    const data = (): never => {
      reads++;
      return { direction: 'inbound' } as never;
    };
    const filtered = compileSubscription(base);
    const unfiltered = compileSubscription({ ...base, filter: undefined });
    expect(filtered.matchesLazily(EventType.AccountBalanceChanged, data)).toBe(false);
    expect(unfiltered.matchesLazily(EventType.CallLive, data)).toBe(true);
    expect(reads).toBe(0);
    expect(filtered.matchesLazily(EventType.CallLive, data)).toBe(true);
    expect(reads).toBe(1);
  });
});
