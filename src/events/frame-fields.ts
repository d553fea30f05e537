import type { Direction } from './normalized-event';
import { spellTelephoneNumber } from './telephone-number';

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

/**
 * A party of a call or SMS: E.164 where the digits carry a country code (Opentact writes
 * `+18389999168` and `18389999168` in one call), otherwise as received; SIP user ids and short
 * codes as sent (see spellTelephoneNumber).
 */
export function readPhone(value: unknown): string | undefined {
  const text = readText(value);
  return text === undefined ? undefined : spellTelephoneNumber(text);
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

/**
 * A telephone number Opentact sends as a JSON number (sometimes wrapped in `{ tn }`) or as digits,
 * spelled like `from` and `to` (see spellTelephoneNumber); anything but digits is no number.
 */
export function readTn(value: unknown): string | undefined {
  const tn = isRecord(value) ? value.tn : value;
  if (typeof tn === 'number') {
    return Number.isSafeInteger(tn) && tn >= 0 ? spellTelephoneNumber(String(tn)) : undefined;
  }
  if (typeof tn === 'string') {
    return /^\+?\d{1,20}$/.test(tn.trim()) ? spellTelephoneNumber(tn) : undefined;
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
