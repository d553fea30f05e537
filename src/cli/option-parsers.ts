import { InvalidArgumentError } from 'commander';
import { parseDurationMs } from '../common/duration';
import type { FilterValue } from './admin-api.types';
import type { TimeFormatter } from './format/time.formatter';

/**
 * Parsers for option values. Each throws commander's InvalidArgumentError, which commander prints
 * with the option's name and turns into a usage error: nothing is sent.
 */

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const RELATIVE = /^\d+(ms|s|m|h|d)$/;

/** Header names as HTTP allows them (a token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return Number(value);
  };
}

/** The instant an ISO-8601 text names; without `Z` or an offset, a wall-clock time in `time`'s zone. */
function parseIso(text: string, time: TimeFormatter): number {
  const m = ISO.exec(text);
  if (!m) {
    return NaN;
  }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0));
  const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const probe = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    probe.getUTCMonth() !== month - 1 ||
    probe.getUTCDate() !== day ||
    probe.getUTCHours() !== hour ||
    probe.getUTCMinutes() !== minute ||
    probe.getUTCSeconds() !== second
  ) {
    return NaN;
  }
  return m[8] === undefined
    ? time.instantOf(year, month, day, hour, minute, second, ms)
    : Date.parse(text);
}

/**
 * A point in time, as ISO-8601 (read in the reader's zone unless it carries `Z` or an offset,
 * like the times this tool prints) or as a duration ago (`30m`, `2h`, `7d`). Returned as
 * ISO-8601 UTC, which is what the API takes.
 */
export function pointInTime(
  time: TimeFormatter,
  now: () => number = Date.now,
): (value: string) => string {
  return (value) => {
    const text = value.trim();
    const ms = RELATIVE.test(text) ? now() - parseDurationMs(text) : parseIso(text, time);
    if (Number.isNaN(ms)) {
      throw new InvalidArgumentError(
        'expected an ISO-8601 time (2026-11-30, 2026-11-30T14:00, 2026-11-30T14:00:00Z) or a duration ago (30m, 2h, 7d).',
      );
    }
    return new Date(ms).toISOString();
  };
}

/** `a,b,c` to a list; empty items refused. */
export function commaList(value: string): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) {
    throw new InvalidArgumentError('expected a comma-separated list without empty items.');
  }
  return items;
}

function nameAndValue(value: string, what: string): [string, string] {
  const at = value.indexOf('=');
  if (at <= 0) {
    throw new InvalidArgumentError(`expected ${what}.`);
  }
  return [value.slice(0, at).trim(), value.slice(at + 1)];
}

/** Repeatable `--header Name=value`. */
export function headerEntry(
  value: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const [name, headerValue] = nameAndValue(value, 'Name=value, e.g. X-Tenant=acme');
  if (!HEADER_NAME.test(name)) {
    throw new InvalidArgumentError(`"${name}" is not a valid header name.`);
  }
  if (Object.keys(previous).some((k) => k.toLowerCase() === name.toLowerCase())) {
    throw new InvalidArgumentError(`header ${name} is given twice.`);
  }
  return { ...previous, [name]: headerValue };
}

/** Repeatable `--filter field=value[,value...]`: one value to equal, or several to choose from. */
export function filterEntry(
  value: string,
  previous: Record<string, FilterValue> = {},
): Record<string, FilterValue> {
  const [field, text] = nameAndValue(
    value,
    'field=value or field=value1,value2, e.g. direction=inbound',
  );
  if (field in previous) {
    throw new InvalidArgumentError(`filter ${field} is given twice.`);
  }
  const values = commaList(text);
  return { ...previous, [field]: values.length === 1 ? values[0] : values };
}
