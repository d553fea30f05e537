import { firstInvalidUtf8Offset } from './utf8-text';

const at = (...bytes: number[]): number | undefined =>
  firstInvalidUtf8Offset(Uint8Array.from(bytes));

describe('firstInvalidUtf8Offset', () => {
  it('finds nothing wrong with ASCII, multi-byte text and the edges of each range', () => {
    expect(at()).toBeUndefined();
    expect(firstInvalidUtf8Offset(Buffer.from('{"a":"é€😀"}'))).toBeUndefined();
    expect(at(0xc2, 0x80, 0xdf, 0xbf)).toBeUndefined();
    expect(at(0xe0, 0xa0, 0x80, 0xed, 0x9f, 0xbf, 0xef, 0xbf, 0xbf)).toBeUndefined();
    expect(at(0xf0, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf)).toBeUndefined();
  });

  it.each([
    ['a lone 0xFF', [0x61, 0xff, 0x62], 1],
    ['a lead byte followed by ASCII', [0x61, 0x62, 0xc3, 0x28], 2],
    ['a lone continuation byte', [0x80], 0],
    ['an overlong two-byte form', [0xc0, 0xaf], 0],
    ['an overlong three-byte form', [0xe0, 0x80, 0xaf], 0],
    ['an encoded surrogate', [0x61, 0xed, 0xa0, 0x80], 1],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['a sequence cut short at the end', [0x61, 0xe2, 0x82], 1],
    ['a bad third byte', [0xe2, 0x82, 0x28], 0],
  ])('points at %s', (_, bytes, offset) => {
    expect(at(...bytes)).toBe(offset);
  });
});
