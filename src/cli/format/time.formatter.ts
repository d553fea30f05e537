/**
 * Times in the reader's zone (the process's, or one given for tests), durations in units a
 * person reads at a glance. An unreadable time is shown as it came.
 */
export class TimeFormatter {
  private readonly parts: Intl.DateTimeFormat;

  constructor(timeZone?: string) {
    this.parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    });
  }

  /** `2026-11-30 06:30:11`, for table cells. */
  short(iso: string | undefined): string {
    return this.format(iso, false);
  }

  /** `2026-11-30 06:30:11 GMT+1`, where the zone must be said. */
  long(iso: string | undefined): string {
    return this.format(iso, true);
  }

  /** `850 ms`, `12.3 s`, `4 min 5 s`. */
  duration(ms: number | undefined): string {
    if (ms === undefined || !Number.isFinite(ms)) {
      return '';
    }
    if (ms < 1_000) {
      return `${Math.round(ms)} ms`;
    }
    if (ms < 60_000) {
      return `${(ms / 1_000).toFixed(1)} s`;
    }
    const minutes = Math.floor(ms / 60_000);
    return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1_000)} s`;
  }

  /**
   * The instant a wall-clock time names in this zone (months 1-12). Across a DST change the
   * offset is looked up again at the first guess, which settles it.
   */
  instantOf(
    year: number,
    month: number,
    day: number,
    hour = 0,
    minute = 0,
    second = 0,
    ms = 0,
  ): number {
    const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
    const first = wall - this.offsetAt(wall);
    return wall - this.offsetAt(first);
  }

  /** How far this zone's wall clock is ahead of UTC at an instant, in ms. */
  private offsetAt(epochMs: number): number {
    const p = this.fields(new Date(epochMs));
    const wall = Date.UTC(
      Number(p.year),
      Number(p.month) - 1,
      Number(p.day),
      Number(p.hour),
      Number(p.minute),
      Number(p.second),
    );
    return wall - (epochMs - (((epochMs % 1000) + 1000) % 1000));
  }

  private fields(date: Date): Record<string, string> {
    const p: Record<string, string> = {};
    for (const part of this.parts.formatToParts(date)) {
      p[part.type] = part.value;
    }
    return p;
  }

  private format(iso: string | undefined, withZone: boolean): string {
    if (iso === undefined || iso === '') {
      return '';
    }
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) {
      return iso;
    }
    const p = this.fields(date);
    const text = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
    return withZone ? `${text} ${p.timeZoneName}` : text;
  }
}
