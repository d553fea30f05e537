import type { Direction } from './normalized-event';

/**
 * Lenient readers for frame fields. Examples in Opentact's docs disagree on which keys are present
 * and on their JSON types, so a field of the wrong type is left out of the event rather than
 * failing the frame; the DTOs only reject what makes a frame meaningless.
 */

export type Frame = Record<string, unknown>;

/** Longest id the bridge accepts; ids end up in Redis keys. */
export const MAX_ID_LENGTH = 128;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

export function readString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Phone numbers and SIP ids are strings in the examples, but `tn` shows Opentact also sends numbers. */
export function readText(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
}

/** Digits only, country code first, 8 to 15 digits in all: what E.164 allows, short codes excluded. */
const INTERNATIONAL_NUMBER = /^\+?([1-9]\d{7,14})$/;

/**
 * A party of a call or SMS: Opentact writes the same number with and without `+`
 * (`+18389999168` and `18389999168` in one call), so numbers are given the `+` of E.164. Anything
 * else (SIP user ids, short codes, national numbers starting with 0) is left as sent.
 */
export function readPhone(value: unknown): string | undefined {
  const text = readText(value);
  if (text === undefined) {
    return undefined;
  }
  const match = INTERNATIONAL_NUMBER.exec(text.trim());
  return match ? `+${match[1]}` : text;
}

export function readId(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH
    ? value
    : undefined;
}

export function readNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function readBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

export function uuidOf(value: unknown): string | undefined {
  return isRecord(value) ? readId(value.uuid) : undefined;
}

/** ISO-8601 from an ISO string or epoch milliseconds; anything unparseable is left out. */
export function readIsoTime(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    return undefined;
  }
  const time = typeof value === 'string' ? Date.parse(value) : value;
  // Date#toISOString throws outside ±8.64e15 ms, so check before formatting.
  return Number.isFinite(time) && Math.abs(time) <= 8.64e15
    ? new Date(time).toISOString()
    : undefined;
}

/** A telephone number as digits: Opentact sends `tn` as a JSON number, sometimes wrapped in `{ tn }`. */
export function readTn(value: unknown): string | undefined {
  const tn = isRecord(value) ? value.tn : value;
  if (typeof tn === 'number') {
    return Number.isSafeInteger(tn) && tn >= 0 ? String(tn) : undefined;
  }
  if (typeof tn === 'string') {
    const match = /^\+?(\d{1,20})$/.exec(tn.trim());
    return match ? match[1] : undefined;
  }
  return undefined;
}

export function readDirection(value: unknown): Direction | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  switch (value.trim().toLowerCase()) {
    case 'in':
    case 'inbound':
      return 'inbound';
    case 'out':
    case 'outbound':
      return 'outbound';
    default:
      return undefined;
  }
}

/** Event data goes out as JSON: a key with an `undefined` value must not exist at all. */
export function compact<T extends object>(value: T): T {
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (record[key] === undefined) {
      delete record[key];
    }
  }
  return value;
}
