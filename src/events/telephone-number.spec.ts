import { spellTelephoneNumber } from './telephone-number';

describe('spellTelephoneNumber', () => {
  it.each([
    ['+18389999168', '+18389999168'],
    ['18382050008', '+18382050008'],
    ['18389999168', '+18389999168'],
    ['4158531285', '4158531285'],
    ['9038479977', '9038479977'],
    ['+4158531285', '+4158531285'],
    ['33612345678', '+33612345678'],
    ['+33612345678', '+33612345678'],
    ['10000000000', '10000000000'],
    // Valid only once the library drops the trunk 8 after +7: the digits are not changed.
    ['+784883817618', '+784883817618'],
    ['784883817618', '784883817618'],
    ['12345', '12345'],
    [' 18389999168\t', '+18389999168'],
    [' 4158531285 ', '4158531285'],
    ['soupra_cool_743', 'soupra_cool_743'],
    [' sip-user ', ' sip-user '],
  ])('spells %p as %p', (text, expected) => {
    expect(spellTelephoneNumber(text)).toBe(expected);
  });

  it('gives the same answers once its cache has filled and started afresh', () => {
    for (let i = 0; i < 10_050; i++) {
      const national = `838${String(2_000_000 + i)}`;
      expect(spellTelephoneNumber(`1${national}`)).toBe(`+1${national}`);
    }
    expect(spellTelephoneNumber('18382050008')).toBe('+18382050008');
    expect(spellTelephoneNumber('4158531285')).toBe('4158531285');
  });
});
