import { isUtf8 } from 'node:buffer';

/**
 * Where the first byte that breaks UTF-8 sits, or undefined when the bytes are valid UTF-8.
 * Valid means what the WebSocket protocol and Unicode (Table 3-7) require: no overlong forms, no
 * encoded surrogates, nothing past U+10FFFF, no sequence cut short. The check runs on every text
 * frame, so the native `isUtf8` answers first and the byte walk runs only for a bad frame.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number | undefined {
  if (isUtf8(bytes)) {
    return undefined;
  }
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    const [length, secondMin, secondMax] = sequenceOf(lead);
    if (length === 0) {
      return i;
    }
    for (let k = 1; k < length; k++) {
      const byte = bytes[i + k];
      const [min, max] = k === 1 ? [secondMin, secondMax] : [0x80, 0xbf];
      if (byte === undefined || byte < min || byte > max) {
        return i;
      }
    }
    i += length;
  }
  // isUtf8 and this walk follow the same table; reaching here would mean they disagree.
  return bytes.length;
}

/** Sequence length for a lead byte and the range its second byte must fall in; 0: no lead byte. */
function sequenceOf(lead: number): [number, number, number] {
  if (lead >= 0xc2 && lead <= 0xdf) {
    return [2, 0x80, 0xbf];
  }
  if (lead === 0xe0) {
    return [3, 0xa0, 0xbf];
  }
  if (lead === 0xed) {
    return [3, 0x80, 0x9f];
  }
  if (lead >= 0xe1 && lead <= 0xef) {
    return [3, 0x80, 0xbf];
  }
  if (lead === 0xf0) {
    return [4, 0x90, 0xbf];
  }
  if (lead === 0xf4) {
    return [4, 0x80, 0x8f];
  }
  if (lead >= 0xf1 && lead <= 0xf3) {
    return [4, 0x80, 0xbf];
  }
  return [0, 0, 0];
}
