/**
 * Event ids become parts of Redis keys and BullMQ job ids, which may not contain ':' nor be all
 * digits. Replacing ':' by another character merges ids (`a:1` and `a_1` would be one job, and the
 * second event would be dropped as a duplicate), so ids are escaped instead:
 *
 * - letters, digits, `.`, `-` and `_` are kept as they are, so uuids and derived ids read the same;
 * - every other UTF-16 code unit (':' and the escape character '~' among them) becomes `~` and
 *   four lowercase hex digits;
 * - an id made only of digits (or empty) becomes `~n` and the id, since `~n` starts no escape.
 *
 * The mapping is injective and `decodeIdFromKey` reverses it. Encoding code units rather than
 * UTF-8 bytes keeps it injective for strings holding lone surrogates too.
 */

const ESCAPE = '~';
const DIGITS_ONLY_MARK = `${ESCAPE}n`;
const KEPT = /^[A-Za-z0-9._-]$/;
const ALL_DIGITS = /^[0-9]*$/;
const HEX_UNIT = /^[0-9a-f]{4}$/;

export function encodeIdForKey(id: string): string {
  if (ALL_DIGITS.test(id)) {
    return DIGITS_ONLY_MARK + id;
  }
  let encoded = '';
  for (let i = 0; i < id.length; i++) {
    const unit = id[i];
    encoded += KEPT.test(unit) ? unit : ESCAPE + id.charCodeAt(i).toString(16).padStart(4, '0');
  }
  return encoded;
}

/** Thrown for text `encodeIdForKey` cannot have produced. */
export class InvalidEncodedIdError extends Error {
  readonly code = 'INVALID_ENCODED_ID';
}

export function decodeIdFromKey(key: string): string {
  if (key.startsWith(DIGITS_ONLY_MARK)) {
    const digits = key.slice(DIGITS_ONLY_MARK.length);
    if (!ALL_DIGITS.test(digits)) {
      throw new InvalidEncodedIdError('an all-digits key holds something other than digits');
    }
    return digits;
  }
  let decoded = '';
  for (let i = 0; i < key.length; i++) {
    const char = key[i];
    if (char === ESCAPE) {
      const hex = key.slice(i + 1, i + 5);
      if (!HEX_UNIT.test(hex)) {
        throw new InvalidEncodedIdError(`bad escape at offset ${i}`);
      }
      const unit = String.fromCharCode(parseInt(hex, 16));
      if (KEPT.test(unit)) {
        // The encoder keeps these as they are; an escaped one would give a second spelling.
        throw new InvalidEncodedIdError(`needless escape at offset ${i}`);
      }
      decoded += unit;
      i += 4;
    } else if (KEPT.test(char)) {
      decoded += char;
    } else {
      throw new InvalidEncodedIdError(`unescaped character at offset ${i}`);
    }
  }
  if (ALL_DIGITS.test(decoded)) {
    throw new InvalidEncodedIdError('an all-digits id must carry the ~n mark');
  }
  return decoded;
}
