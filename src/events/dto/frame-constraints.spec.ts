import 'reflect-metadata';
import { validateSync } from 'class-validator';
import { MAX_ID_LENGTH } from '../frame-fields';
import {
  balanceAmountOf,
  CarriesCallIdentity,
  IsBalanceAmount,
  IsEventUuid,
  IsFrameId,
} from './frame-constraints';

class WithId {
  @IsFrameId()
  id!: unknown;
}

class WithUuid {
  @IsEventUuid()
  uuid!: unknown;
}

class WithCall {
  @CarriesCallIdentity()
  call!: unknown;

  payload?: unknown;
}

class WithAmount {
  @IsBalanceAmount()
  payload!: unknown;
}

const messages = (target: object): string[] =>
  validateSync(target).flatMap((e) => Object.values(e.constraints ?? {}));

describe('frame constraints', () => {
  it('names the property a bad frame id sits in', () => {
    expect(messages(Object.assign(new WithId(), { id: '' }))).toEqual([
      expect.stringMatching(/^id must be a non-empty string of at most \d+ characters$/),
    ]);
    expect(messages(Object.assign(new WithId(), { id: 'call-1' }))).toEqual([]);
  });

  it('refuses a call that is not an object, whatever its payload says', () => {
    for (const call of ['c-1', 7, null, ['uuid']]) {
      expect(messages(Object.assign(new WithCall(), { call, payload: { state: 'live' } }))).toEqual(
        ['call object needs a uuid or a state'],
      );
    }
  });

  it('takes a uuid or a state on the call, or a state in the payload beside it', () => {
    const check = (call: unknown, payload?: unknown) =>
      messages(Object.assign(new WithCall(), { call, payload }));
    expect(check({ uuid: 'u-1' })).toEqual([]);
    expect(check({ state: 'ringing' })).toEqual([]);
    expect(check({}, { state: 'live' })).toEqual([]);
    expect(check({}, { state: 5 })).toEqual(['call object needs a uuid or a state']);
    expect(check({}, 'live')).toEqual(['call object needs a uuid or a state']);
  });

  it('takes any non-empty string as an envelope uuid, whatever its length or characters', () => {
    const check = (uuid: unknown) => messages(Object.assign(new WithUuid(), { uuid }));
    expect(check('a'.repeat(MAX_ID_LENGTH + 1))).toEqual([]);
    expect(check(' \r\n\u0000é')).toEqual([]);
    expect(check('')).toEqual(['uuid must be a non-empty string']);
    expect(check(['u-1'])).toHaveLength(1);
    expect(check(42)).toHaveLength(1);
  });

  it('takes frame ids of 1 to MAX_ID_LENGTH characters, and only strings', () => {
    const check = (id: unknown) => messages(Object.assign(new WithId(), { id }));
    expect(check('a'.repeat(MAX_ID_LENGTH))).toEqual([]);
    expect(check('a'.repeat(MAX_ID_LENGTH + 1))).toHaveLength(1);
    // Things with a length that are not strings.
    expect(check(['call-1'])).toHaveLength(1);
    expect(check({ length: 3 })).toHaveLength(1);
    expect(check(42)).toHaveLength(1);
  });

  it('reads a balance amount bare or from balance, then amount, and only when finite', () => {
    expect(balanceAmountOf(873.06)).toBe(873.06);
    expect(balanceAmountOf(0)).toBe(0);
    expect(balanceAmountOf({ balance: 2, amount: 3 })).toBe(2);
    expect(balanceAmountOf({ amount: 3 })).toBe(3);
    expect(balanceAmountOf({ balance: null, amount: 4 })).toBe(4);
    for (const bad of [
      '873.06',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      [1],
      { balance: '1' },
      null,
    ]) {
      expect(balanceAmountOf(bad)).toBeUndefined();
    }
  });

  it('refuses a balance payload without a finite amount, naming it', () => {
    const check = (payload: unknown) => messages(Object.assign(new WithAmount(), { payload }));
    expect(check({ amount: 1.5 })).toEqual([]);
    expect(check({ amount: Number.NaN })).toEqual(['balance payload must be a number']);
    expect(check('873.06')).toEqual(['balance payload must be a number']);
  });
});
