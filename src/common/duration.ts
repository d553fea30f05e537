const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `250ms`, `5s`, `5m`, `2h`, `1d`; a bare number means seconds. */
export function parseDurationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) {
    throw new Error(`not a duration: "${text}"`);
  }
  return Number(match[1]) * UNIT_MS[match[2] ?? 's'];
}

export function parseDurationList(text: string): number[] {
  return text.trim() === '' ? [] : text.split(',').map(parseDurationMs);
}
