/** Pure formatting: times in the viewer's zone, raw bytes, lists typed by hand. */

/** The viewer's time zone, as the browser reports it (shown once in the footer). */
export function viewerZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** An ISO time in the viewer's zone (or `timeZone`, for tests); '' for none. */
export function formatTime(iso: string | undefined, timeZone?: string): string {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  return new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZone,
    timeZoneName: 'short',
  }).format(date);
}

/** How long ago, roughly: "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) {
    return '';
  }
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (Number.isNaN(seconds)) {
    return '';
  }
  const future = seconds < 0;
  const s = Math.abs(seconds);
  const span =
    s < 5
      ? undefined
      : s < 90
        ? `${s} s`
        : s < 90 * 60
          ? `${Math.round(s / 60)} min`
          : s < 36 * 3600
            ? `${Math.round(s / 3600)} h`
            : `${Math.round(s / 86400)} d`;
  if (!span) {
    return 'just now';
  }
  return future ? `in ${span}` : `${span} ago`;
}

/**
 * A `datetime-local` input's value (the viewer's wall-clock time, no zone) as an ISO instant;
 * undefined when empty or not a time.
 */
export function localInputToIso(value: string): string | undefined {
  if (value.trim() === '') {
    return undefined;
  }
  // Without a zone, ECMAScript reads a date-time form as local time.
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** An instant as a `datetime-local` value in the viewer's zone (minute precision). */
export function isoToLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "call.*, sms.inbound ,," -> ["call.*", "sms.inbound"]. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/** A positive whole number typed in a form, or undefined when the field is empty. */
export function parseCount(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') {
    return undefined;
  }
  const n = Number(trimmed);
  return Number.isInteger(n) ? n : Number.NaN;
}

export interface RawView {
  /** `text` when the bytes are printable UTF-8, else a hex dump. */
  kind: 'text' | 'hex';
  text: string;
}

function base64Bytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

/** Control characters other than tab, line feed and carriage return. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A quarantined frame's bytes: as text when they are printable UTF-8, else as a hex dump. */
export function describeRaw(base64: string): RawView {
  let bytes: Uint8Array;
  try {
    bytes = base64Bytes(base64);
  } catch {
    return { kind: 'text', text: '(not valid base64)' };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (!UNPRINTABLE.test(text)) {
      return { kind: 'text', text };
    }
  } catch {
    // not UTF-8: shown in hex
  }
  return { kind: 'hex', text: hexDump(bytes) };
}

/** 16 bytes a line: offset, hex, and the printable ASCII. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.'));
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii.join('')}`);
  }
  return lines.join('\n');
}

/** The fields of an event's data worth a glance in a list: who, what state. */
export function summarizeData(data: Record<string, unknown>): string {
  const parts: string[] = [];
  const text = (key: string): string | undefined => {
    const value = data[key];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  };
  const from = text('from');
  const to = text('to');
  if (from !== undefined || to !== undefined) {
    parts.push(`${from ?? '?'} → ${to ?? '?'}`);
  }
  for (const key of ['state', 'direction', 'amount', 'command', 'message']) {
    const value = text(key);
    if (value !== undefined) {
      parts.push(`${key} ${value}`);
    }
  }
  const line = parts.join(' · ');
  return line.length > 140 ? `${line.slice(0, 137)}...` : line;
}
