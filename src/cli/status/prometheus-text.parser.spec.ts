import { parsePrometheusText, sumBy, sumOf } from './prometheus-text.parser';

const SCRAPE = `# HELP otb_deliveries_total Webhook delivery attempts
# TYPE otb_deliveries_total counter
otb_deliveries_total{outcome="success",status_class="2xx"} 7
otb_deliveries_total{outcome="retry",status_class="5xx"} 3
otb_deliveries_total{outcome="retry",status_class="none"} 2

otb_events_duplicates_total 0
otb_weird{path="a\\"b\\\\c\\nd",other="x,y"} 1.5 1700000000000
otb_latency_bucket{le="+Inf"} +Inf
this line is not a sample
otb_broken{label="unterminated} 1
`;

describe('parsePrometheusText', () => {
  const samples = parsePrometheusText(SCRAPE);

  it('reads names, labels (with escapes and commas) and values, skipping comments and junk', () => {
    expect(samples).toContainEqual({
      name: 'otb_weird',
      labels: { path: 'a"b\\c\nd', other: 'x,y' },
      value: 1.5,
    });
    expect(samples).toContainEqual({ name: 'otb_events_duplicates_total', labels: {}, value: 0 });
    expect(samples).toContainEqual({
      name: 'otb_latency_bucket',
      labels: { le: '+Inf' },
      value: Infinity,
    });
    expect(samples.map((s) => s.name)).not.toContain('otb_broken');
    expect(samples).toHaveLength(6);
  });

  it('sums a series, filtered by labels or grouped by one', () => {
    expect(sumOf(samples, 'otb_deliveries_total')).toBe(12);
    expect(sumOf(samples, 'otb_deliveries_total', { outcome: 'retry' })).toBe(5);
    expect(sumOf(samples, 'otb_absent_total')).toBeUndefined();
    expect([...sumBy(samples, 'otb_deliveries_total', 'outcome')]).toEqual([
      ['success', 7],
      ['retry', 5],
    ]);
  });
});
