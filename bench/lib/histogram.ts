import * as hdr from 'hdr-histogram-js';

/** Latency in milliseconds, kept in microseconds in an HDR histogram (3 significant digits). */
export class LatencyHistogram {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });

  recordMs(ms: number): void {
    const micros = Math.min(Math.max(1, Math.round(ms * 1000)), 3_600_000_000);
    this.histogram.recordValue(micros);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentileMs(percentile: number): number | undefined {
    return this.count === 0 ? undefined : this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  maxMs(): number | undefined {
    return this.count === 0 ? undefined : this.histogram.maxValue / 1000;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50: this.percentileMs(50),
      p95: this.percentileMs(95),
      p99: this.percentileMs(99),
      max: this.maxMs(),
    };
  }

  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }
}

export interface LatencySummary {
  count: number;
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
}
