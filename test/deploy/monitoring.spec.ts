import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { Histogram } from 'prom-client';
import { MetricsService } from '../../src/metrics/metrics.service';
import { QueueName } from '../../src/queue/queue.constants';
import { CHART, find, FULL_VALUES, FULLNAME, type KubeObject, render, ROOT } from './chart-render';

/**
 * The chart's PrometheusRule and Grafana dashboard read only series the service exports. The
 * series come from the service's own registry (MetricsService), the queries are parsed as PromQL,
 * and every metric name, label matcher and grouping label is looked up.
 */

/** Labels Prometheus adds to every scraped series (the ServiceMonitor's podTargetLabels included). */
const TARGET_LABELS = new Set([
  'job',
  'namespace',
  'pod',
  'instance',
  'service',
  'endpoint',
  'container',
  'app_kubernetes_io_component',
]);

interface Series {
  labels: Set<string>;
}

/** Every series name the service exports, with its labels; histograms as their three series. */
function exportedSeries(): Map<string, Series> {
  const metrics = new MetricsService();
  const series = new Map<string, Series>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    // prom-client keeps the declared label names on the metric object.
    const declared = (metric as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    const labels = new Set(declared);
    if (metric instanceof Histogram) {
      series.set(`${metric.name}_bucket`, { labels: new Set([...labels, 'le']) });
      series.set(`${metric.name}_sum`, { labels });
      series.set(`${metric.name}_count`, { labels });
    } else {
      series.set(metric.name, { labels });
    }
  }
  return series;
}

const SERIES = exportedSeries();

interface Selector {
  metric: string;
  matchers: { label: string; value: string }[];
}

/** Grafana's interval variables are not PromQL; give them a duration before parsing. */
function asPromQL(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m');
}

/** Syntax errors, vector selectors and grouping labels of one PromQL expression. */
function analyse(expr: string): { errors: number; selectors: Selector[]; grouping: string[] } {
  const source = asPromQL(expr);
  const tree = parser.parse(source);
  const text = (from: number, to: number): string => source.slice(from, to);
  let errors = 0;
  const selectors: Selector[] = [];
  const grouping: string[] = [];
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        errors++;
        return;
      }
      if (ref.name === 'VectorSelector') {
        const node = ref.node;
        const identifier = node.getChild('Identifier');
        const matchers = (
          node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []
        ).map((m) => {
          const label = m.getChild('LabelName');
          const value = m.getChild('StringLiteral');
          return {
            label: label ? text(label.from, label.to) : '',
            value: value ? (JSON.parse(text(value.from, value.to)) as string) : '',
          };
        });
        selectors.push({
          metric: identifier ? text(identifier.from, identifier.to) : '',
          matchers,
        });
      }
      if (ref.name === 'GroupingLabels') {
        for (const label of ref.node.getChildren('LabelName')) {
          grouping.push(text(label.from, label.to));
        }
      }
    },
  });
  return { errors, selectors, grouping };
}

/** What is wrong with an expression: syntax, unknown series, unknown labels, unknown queues. */
function problems(expr: string): string[] {
  const { errors, selectors, grouping } = analyse(expr);
  const found: string[] = [];
  if (errors > 0) {
    found.push(`not valid PromQL: ${expr}`);
  }
  if (selectors.length === 0) {
    found.push(`reads no series: ${expr}`);
  }
  const labelsInUse = new Set<string>(TARGET_LABELS);
  for (const { metric, matchers } of selectors) {
    const series = SERIES.get(metric);
    if (!series) {
      found.push(`${metric} is not exported by the service`);
      continue;
    }
    series.labels.forEach((l) => labelsInUse.add(l));
    for (const { label, value } of matchers) {
      if (!series.labels.has(label) && !TARGET_LABELS.has(label)) {
        found.push(`${metric} has no label ${label}`);
      }
      if (label === 'queue' && !(Object.values(QueueName) as string[]).includes(value)) {
        found.push(`${metric}: no queue named ${value}`);
      }
    }
  }
  for (const label of grouping) {
    if (!labelsInUse.has(label)) {
      found.push(`grouping by ${label}, a label none of the series has`);
    }
  }
  return found;
}

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rulesOf = (object: KubeObject): Rule[] =>
  (object.spec as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

interface Panel {
  title: string;
  type: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; definition?: string }[] };
}

const DASHBOARD_FILE = join(CHART, 'dashboards', 'opentact-bridge.json');

describe('monitoring: the series the service exports', () => {
  it('are read from the service registry, the event backlog gauge included', () => {
    expect(SERIES.get('otb_queue_jobs')?.labels).toEqual(new Set(['queue', 'state']));
    expect(SERIES.get('otb_deliveries_total')?.labels).toEqual(
      new Set(['outcome', 'status_class']),
    );
    expect(SERIES.has('otb_end_to_end_latency_seconds_bucket')).toBe(true);
    expect(SERIES.has('otb_process_cpu_seconds_total')).toBe(true);
    const backlog = new MetricsService().registry.getSingleMetric('otb_events_backlog');
    expect(backlog).toBeDefined();
    expect((backlog as unknown as { help: string }).help).toBe(
      'Events ingested and not yet read by the fan-out',
    );
  });

  it('a misspelt series, label, queue or a syntax error is caught', () => {
    expect(problems('sum(rate(otb_deliveries_totl{outcome="dead"}[5m]))')).toEqual([
      'otb_deliveries_totl is not exported by the service',
    ]);
    expect(problems('sum(rate(otb_deliveries_total{outcom="dead"}[5m]))')).toEqual([
      'otb_deliveries_total has no label outcom',
    ]);
    expect(problems('max(otb_queue_jobs{queue="retries",state="waiting"})')).toEqual([
      'otb_queue_jobs: no queue named retries',
    ]);
    expect(problems('sum by (reasn) (otb_frames_quarantined_total)')).toEqual([
      'grouping by reasn, a label none of the series has',
    ]);
    expect(problems('sum(rate(otb_deliveries_total[5m]) >')).toEqual([
      'not valid PromQL: sum(rate(otb_deliveries_total[5m]) >',
    ]);
    expect(problems('vector(1)')).toEqual(['reads no series: vector(1)']);
    expect(
      problems(
        'histogram_quantile(0.99, sum by (le) (rate(otb_delivery_attempt_duration_seconds_bucket{job="$job"}[$__rate_interval])))',
      ),
    ).toEqual([]);
  });
});

describe('monitoring: the PrometheusRule', () => {
  let rules: Rule[];

  beforeAll(() => {
    const objects = render({ values: { metrics: { prometheusRule: { enabled: true } } } });
    rules = rulesOf(find(objects, 'PrometheusRule', FULLNAME));
  });

  it('every alert parses and reads only series and labels the service exports', () => {
    expect(rules.length).toBeGreaterThanOrEqual(9);
    const full = rulesOf(find(render({ files: [FULL_VALUES] }), 'PrometheusRule', FULLNAME));
    for (const rule of [...rules, ...full]) {
      expect({ alert: rule.alert, problems: problems(rule.expr) }).toEqual({
        alert: rule.alert,
        problems: [],
      });
      expect(rule.labels?.severity).toMatch(/^(critical|warning|info)$/);
    }
  });

  it('every alert is named, explained, and selects this release only', () => {
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^OpentactBridge[A-Z]\w+$/);
      expect(rule.annotations?.summary).toEqual(expect.any(String));
      expect(rule.annotations?.description).toEqual(expect.any(String));
      for (const { metric, matchers } of analyse(rule.expr).selectors) {
        expect({ alert: rule.alert, metric, matchers }).toMatchObject({
          matchers: expect.arrayContaining([
            { label: 'job', value: `${FULLNAME}-metrics` },
            { label: 'namespace', value: 'bridge' },
          ]) as unknown,
        });
      }
    }
  });

  it('alerts on what the README describes', () => {
    const byMetric = (metric: string): Rule[] =>
      rules.filter((r) => analyse(r.expr).selectors.some((s) => s.metric === metric));
    const connection = byMetric('otb_opentact_connection_state');
    expect(connection.map((r) => r.labels?.severity)).toEqual(['critical']);
    expect(analyse(connection[0].expr).selectors[0].matchers).toContainEqual({
      label: 'state',
      value: 'open',
    });
    const waiting = byMetric('otb_queue_jobs');
    expect(analyse(waiting[0].expr).selectors[0].matchers).toEqual(
      expect.arrayContaining([
        { label: 'queue', value: QueueName.Deliveries },
        { label: 'state', value: 'waiting' },
      ]),
    );
    expect(byMetric('otb_events_backlog')).toHaveLength(1);
    expect(analyse(byMetric('otb_deliveries_total')[0].expr).selectors[0].matchers).toContainEqual({
      label: 'outcome',
      value: 'dead',
    });

    // The README's list of alerts names exactly the chart's.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const listed = [...readme.matchAll(/`(OpentactBridge\w+)`/g)].map((m) => m[1]);
    expect([...new Set(listed)].sort()).toEqual(rules.map((r) => r.alert).sort());
  });

  it('leaves out the ingest alerts when the release runs no ingest', () => {
    const objects = render({
      values: { ingest: { enabled: false }, metrics: { prometheusRule: { enabled: true } } },
    });
    const names = rulesOf(find(objects, 'PrometheusRule', FULLNAME)).map((r) => r.alert);
    expect(names).not.toContain('OpentactBridgeOpentactDisconnected');
    expect(names).toContain('OpentactBridgeDeliveriesDead');
  });
});

describe('monitoring: the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;

  it('every panel query parses and reads only series and labels the service exports', () => {
    const queries = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
    );
    expect(queries.length).toBeGreaterThan(15);
    for (const { panel, expr } of queries) {
      expect({ panel, problems: problems(expr) }).toEqual({ panel, problems: [] });
    }
  });

  it('selects the release through its variables, from a chosen Prometheus', () => {
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({
        panel: panel.title,
        uid: '${datasource}',
      });
      for (const target of panel.targets ?? []) {
        for (const { matchers } of analyse(target.expr).selectors) {
          expect(matchers).toEqual(
            expect.arrayContaining([
              { label: 'job', value: '$job' },
              { label: 'namespace', value: '$namespace' },
            ]),
          );
        }
      }
    }
    const variables = dashboard.templating.list;
    expect(variables.map((v) => v.name)).toEqual(['datasource', 'namespace', 'job']);
    for (const variable of variables.filter((v) => v.type === 'query')) {
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(variable.definition ?? '');
      expect(match).not.toBeNull();
      expect(problems(match![1])).toEqual([]);
      expect(TARGET_LABELS.has(match![2])).toBe(true);
    }
  });

  it('is shipped in a ConfigMap the Grafana sidecar picks up', () => {
    const objects = render({ files: [FULL_VALUES] });
    const configMap = find(objects, 'ConfigMap', `${FULLNAME}-dashboard`);
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(configMap.metadata.annotations).toEqual({ grafana_folder: 'Telephony' });
    const data = configMap.data as Record<string, string>;
    expect(JSON.parse(data['opentact-bridge.json'])).toEqual(dashboard);
    expect(dashboard.uid).toBe('opentact-bridge');
  });
});
