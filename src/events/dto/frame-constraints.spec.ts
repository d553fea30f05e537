import 'reflect-metadata';
import { validateSync } from 'class-validator';
import { CarriesCallIdentity, IsFrameId } from './frame-constraints';

class WithId {
  @IsFrameId()
  id!: unknown;
}

class WithCall {
  @CarriesCallIdentity()
  call!: unknown;

  payload?: unknown;
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
});
