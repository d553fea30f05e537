import { decodeIdFromKey, encodeIdForKey, InvalidEncodedIdError } from './event-id-encoding';

/** mulberry32: a small seeded generator, so a failing case can be replayed from its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Alphabets chosen to provoke collisions: separators, the escape itself, digits, any code unit. */
const POOLS: readonly ((random: () => number) => string)[] = [
  (r) => 'a1:_~n-.'[Math.floor(r() * 8)],
  (r) => '0123456789'[Math.floor(r() * 10)],
  (r) => 'abcdef0123456789-'[Math.floor(r() * 17)],
  (r) => String.fromCharCode(Math.floor(r() * 0x10000)),
  (r) => String.fromCharCode(0xd800 + Math.floor(r() * 0x800)),
];

function randomId(random: () => number): string {
  const length = Math.floor(random() * 24);
  const pool = POOLS[Math.floor(random() * POOLS.length)];
  const mixed = random() < 0.3;
  let id = '';
  for (let i = 0; i < length; i++) {
    id += (mixed ? POOLS[Math.floor(random() * POOLS.length)] : pool)(random);
  }
  return id;
}

const SEED = 20_240_219;
const CASES = 20_000;

describe('encodeIdForKey', () => {
  const random = seeded(SEED);
  const ids = new Set<string>();
  while (ids.size < CASES) {
    ids.add(randomId(random));
  }
  const samples = [...ids];

  it('keeps uuids and derived ids as they are', () => {
    expect(encodeIdForKey('1ccf8c99-a5f2-41d4-8183-f56d2035f3fd')).toBe(
      '1ccf8c99-a5f2-41d4-8183-f56d2035f3fd',
    );
    expect(encodeIdForKey('h_0123456789abcdef0123456789abcdef')).toBe(
      'h_0123456789abcdef0123456789abcdef',
    );
  });

  it('keeps ids that differ only in a separator apart', () => {
    const pairs: [string, string][] = [
      ['a:1', 'a_1'],
      ['a:1', 'a~003a1'],
      ['123', '~n123'],
      ['', '~n'],
      ['x~', 'x~007e'],
    ];
    for (const [left, right] of pairs) {
      expect(encodeIdForKey(left)).not.toBe(encodeIdForKey(right));
    }
    expect(encodeIdForKey('a:1')).toBe('a~003a1');
  });

  it(`is injective over ${CASES} random strings (seed ${SEED})`, () => {
    const keys = new Map<string, string>();
    const collisions: [string, string][] = [];
    for (const id of samples) {
      const key = encodeIdForKey(id);
      const earlier = keys.get(key);
      if (earlier !== undefined) {
        collisions.push([earlier, id]);
      }
      keys.set(key, id);
    }
    expect(collisions).toEqual([]);
    expect(keys.size).toBe(samples.length);
  });

  it('never yields a colon, an all-digits key or a character outside the key alphabet', () => {
    const bad = [...samples, '', '0', '42', '007']
      .map((id) => ({ id, key: encodeIdForKey(id) }))
      .filter(
        ({ key }) => key.includes(':') || /^[0-9]*$/.test(key) || !/^[A-Za-z0-9._~-]+$/.test(key),
      );
    expect(bad).toEqual([]);
  });

  it('is reversed by decodeIdFromKey, and decoding only accepts what encoding yields', () => {
    const wrong = samples.filter((id) => {
      const key = encodeIdForKey(id);
      return decodeIdFromKey(key) !== id || encodeIdForKey(decodeIdFromKey(key)) !== key;
    });
    expect(wrong).toEqual([]);
  });
});

describe('decodeIdFromKey', () => {
  it.each([
    ['a:1', 'an unescaped colon', 'unescaped character at offset 1'],
    ['a~03a', 'a short escape', 'bad escape at offset 1'],
    ['a~003A', 'upper-case hex', 'bad escape at offset 1'],
    ['ab~0061', 'an escaped letter', 'needless escape at offset 2'],
    ['~nabc', 'a digits mark on letters', 'an all-digits key holds something other than digits'],
    ['123', 'digits without the mark', 'an all-digits id must carry the ~n mark'],
    ['a~', 'a dangling escape', 'bad escape at offset 1'],
  ])('rejects %s (%s), saying where', (key, _what, message) => {
    expect(() => decodeIdFromKey(key)).toThrow(InvalidEncodedIdError);
    expect(() => decodeIdFromKey(key)).toThrow(message);
  });

  it('carries a stable code', () => {
    expect(() => decodeIdFromKey('a:1')).toThrow(
      expect.objectContaining({ code: 'INVALID_ENCODED_ID' }) as Error,
    );
  });
});
