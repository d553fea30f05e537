import { canonicalJson, type EventIdentity } from '../event-id';
import type { NormalizedEventType } from '../event-type.enum';
import { asRecord, type Frame, isRecord, readId, readTn, uuidOf } from '../frame-fields';
import type { EventData } from '../normalized-event';

/** What a kind's reader makes of a valid frame; the normaliser adds id, times and raw. */
export interface FrameReading {
  type: NormalizedEventType;
  data: EventData;
  /** See derivedEventId; undefined when nothing anchors the event, so the whole frame is hashed. */
  identity: EventIdentity | undefined;
}

export interface InvalidReading {
  problem: string;
}

export type FrameReader = (frame: Frame, frameKey: string) => FrameReading | InvalidReading;

export function isInvalid(result: FrameReading | InvalidReading): result is InvalidReading {
  return 'problem' in result;
}

/**
 * Where a kind's entity lives: newer frames put it in a slot named after the kind and keep
 * `payload` small (`{ state, ... }`), older frames make `payload` the entity itself.
 */
export interface EntitySlots {
  /** The raw slot value, undefined when the frame has no such slot (or it is null). */
  slot: unknown;
  entity: Record<string, unknown>;
  /** The small newer-style payload beside a slot; undefined when `payload` is the entity. */
  side: Record<string, unknown> | undefined;
}

export function entitySlots(frame: Frame, ...slotNames: string[]): EntitySlots {
  let slot: unknown;
  for (const name of slotNames) {
    slot ??= frame[name] ?? undefined;
  }
  if (slot !== undefined) {
    return { slot, entity: asRecord(slot) ?? {}, side: asRecord(frame.payload) };
  }
  return { slot, entity: asRecord(frame.payload) ?? {}, side: undefined };
}

export function firstString(
  record: Record<string, unknown>,
  keys: readonly string[],
): string | undefined {
  for (const key of keys) {
    const value = record[key];
    if (typeof value === 'string' && value !== '') {
      return value;
    }
  }
  return undefined;
}

/** Undocumented kinds may name their call in a `call` slot, on the entity, or by a bare id. */
export function callIdOf(frame: Frame, entity: Record<string, unknown>): string | undefined {
  return (
    uuidOf(frame.call) ?? uuidOf(entity.call) ?? readId(entity.call_uuid) ?? readId(entity.call_id)
  );
}

const MAX_ERROR_LINES = 100;
const MAX_ERROR_LINE_LENGTH = 500;
const ERROR_TEXT_KEYS = ['message', 'reason', 'error', 'description', 'detail'] as const;

/**
 * Error entries in whatever shape Opentact sends them (undocumented): a string, or an array of
 * strings or of records saying what went wrong in `message`, `reason`, `error`, ... and which
 * number it concerns in `tn`. One line each, bounded in count and length; undefined when there is
 * nothing to say (an empty array is "no errors").
 */
export function errorLines(value: unknown): string[] | undefined {
  const entries = Array.isArray(value) ? (value as unknown[]) : [value];
  const lines: string[] = [];
  for (const entry of entries) {
    const line = errorLine(entry);
    if (line !== undefined) {
      lines.push(line.slice(0, MAX_ERROR_LINE_LENGTH));
    }
    if (lines.length === MAX_ERROR_LINES) {
      break;
    }
  }
  return lines.length > 0 ? lines : undefined;
}

function errorLine(entry: unknown): string | undefined {
  if (typeof entry === 'string') {
    return entry.trim() === '' ? undefined : entry;
  }
  if (!isRecord(entry)) {
    return undefined;
  }
  const nested = isRecord(entry.error) ? firstString(entry.error, ERROR_TEXT_KEYS) : undefined;
  const text = firstString(entry, ERROR_TEXT_KEYS) ?? nested ?? canonicalJson(entry);
  const tn = readTn(entry.tn ?? entry.number);
  return tn === undefined ? text : `${tn}: ${text}`;
}
