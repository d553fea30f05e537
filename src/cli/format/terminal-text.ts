/**
 * Text that came from elsewhere (a customer endpoint's response body, an event's fields) is
 * printed only after its control characters are made visible: an escape sequence in a response
 * body must not be able to rewrite the operator's terminal.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Control characters shown as `\xNN` / `\uNNNN`; newlines and tabs kept. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** One line for a table cell: whitespace runs (newlines included) become one space, then cut to `max`. */
export function oneLine(text: string, max = Infinity): string {
  const flat = printable(text.replace(/[\s]+/g, ' ').trim());
  return truncate(flat, max);
}

/** Cut to `max` characters (code points), the last one an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, Math.max(0, max - 1)).join('')}…` : text;
}

export function width(text: string): number {
  return [...text].length;
}
