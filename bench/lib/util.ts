import { performance } from 'node:perf_hooks';
import { waitFor } from '../../test/support/wait';

/** Epoch milliseconds with sub-ms precision, on the same clock as the simulator's `sim_sent_at`. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export { sleep, waitUntil } from '../../test/support/wait';

/** Like waitUntil, but a timeout is an error naming what was awaited. */
export async function mustWaitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  await waitFor(check, timeoutMs, what, 100);
}

export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function fmtInt(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value)
    ? '-'
    : Math.round(value).toLocaleString('en-US');
}

export function fmtNum(value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

export function fmtBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) {
    return '-';
  }
  if (Math.abs(bytes) >= 1024 * 1024) {
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }
  if (Math.abs(bytes) >= 1024) {
    return `${(bytes / 1024).toFixed(2)} KB`;
  }
  return `${Math.round(bytes)} B`;
}

/** A fixed-width text table; the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  const line = (r: string[]): string =>
    `| ${r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
