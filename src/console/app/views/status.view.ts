import { connectionProblem } from '../../../api-contract/connection-problem';
import { h, notice, replace, table } from '../dom';
import { ago, formatTime } from '../format';
import type { OutcomeCounts, Status } from '../types';
import { attempt, every, type View } from '../view';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    el.setAttribute(name, String(value));
  }
  return el;
}

const failures = (c: OutcomeCounts): number => c.retry + c.dead + c.disabled;

/** Deliveries per minute over the hour: successes up, failed attempts in the alert colour. */
function minuteChart(status: Status): Element {
  const minutes = status.deliveries.perMinute;
  const max = Math.max(1, ...minutes.map((m) => m.counts.success + failures(m.counts)));
  const width = 600;
  const height = 120;
  const bar = width / Math.max(1, minutes.length);
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    class: 'chart',
    'aria-labelledby': 'chart-title',
  });
  const title = svg('title', { id: 'chart-title' });
  title.textContent =
    `Deliveries per minute, last hour: ${status.deliveries.lastHour.success} succeeded, ` +
    `${failures(status.deliveries.lastHour)} failed attempts`;
  chart.appendChild(title);
  minutes.forEach((m, i) => {
    const ok = (m.counts.success / max) * (height - 4);
    const bad = (failures(m.counts) / max) * (height - 4);
    const x = i * bar + 1;
    const w = Math.max(1, bar - 2);
    if (ok > 0) {
      chart.appendChild(svg('rect', { x, y: height - ok, width: w, height: ok, class: 'bar-ok' }));
    }
    if (bad > 0) {
      chart.appendChild(
        svg('rect', { x, y: height - ok - bad, width: w, height: bad, class: 'bar-bad' }),
      );
    }
  });
  return chart;
}

function stat(label: string, value: string | number, kind = '', id?: string): HTMLElement {
  return h('div', { class: `stat ${kind}`, id }, h('dt', {}, label), h('dd', {}, String(value)));
}

const MIB = 1_048_576;

/**
 * The event log against its byte budget, and the skipped deliveries: a delivery that lost its
 * event (evicted over the budget) is listed in Deliveries with status `skipped`.
 */
function retentionSection(status: Status): HTMLElement {
  const { retention } = status.events;
  const skipped = status.deliveries.skipped;
  const over = retention.overBudget;
  return h(
    'section',
    { 'aria-labelledby': 'st-retention' },
    h('h3', { id: 'st-retention' }, 'Event log retention'),
    over
      ? notice(
          'error',
          `Over its byte budget since ${formatTime(over.since)} (${ago(over.since)}): ${over.evicted} events were evicted while deliveries waited for them, and those deliveries were skipped. Raise EVENT_RETENTION_MAX_BYTES, or fix or disable the failing endpoints.`,
        )
      : null,
    h(
      'dl',
      { class: 'stats' },
      stat(
        'Log size',
        `${(retention.bytes / MIB).toFixed(1)} of ${(retention.budgetBytes / MIB).toFixed(0)} MiB`,
        over ? 'bad' : retention.bytes > 0.8 * retention.budgetBytes ? 'warn' : '',
        'retention-bytes',
      ),
      stat('Deliveries holding events', retention.heldDeliveries),
      stat('Skipped deliveries', skipped, skipped > 0 ? 'bad' : '', 'deliveries-skipped'),
    ),
    skipped > 0
      ? h(
          'p',
          {},
          h('a', { href: '#/deliveries?status=skipped' }, 'List the skipped deliveries'),
          ' with their reasons.',
        )
      : null,
  );
}

function render(status: Status): HTMLElement[] {
  const { opentact, events, deliveries, subscriptions, quarantine } = status;
  const hour = deliveries.lastHour;
  return [
    h(
      'section',
      { 'aria-labelledby': 'st-conn' },
      h(
        'h3',
        { id: 'st-conn' },
        'Opentact connection ',
        h(
          'span',
          { class: `badge badge-${opentact.state}`, id: 'connection-state' },
          opentact.state,
        ),
      ),
      opentact.connections.length === 0
        ? notice('info', 'No ingest process reports a connection.')
        : table(
            'Ingest connections',
            [
              'Instance',
              'State',
              'Connected since',
              'Last frame',
              'Reconnects',
              'Auth failures',
              'Paused',
              'Problem',
            ],
            opentact.connections.map((c) => [
              c.instance,
              `${c.state}${c.authenticated ? ', authenticated' : ''}`,
              c.connectedSince ? `${formatTime(c.connectedSince)} (${ago(c.connectedSince)})` : '—',
              c.lastFrameAt ? ago(c.lastFrameAt) : '—',
              c.reconnects,
              c.authFailures ?? 0,
              c.paused ? 'yes: Redis is behind' : 'no',
              connectionProblem(c) ?? '—',
            ]),
          ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'st-hour' },
      h('h3', { id: 'st-hour' }, 'Deliveries, last hour'),
      h(
        'dl',
        { class: 'stats' },
        stat('Succeeded', hour.success, 'ok', 'outcome-success'),
        stat('Failed, retrying', hour.retry, hour.retry > 0 ? 'warn' : ''),
        stat('Dead', hour.dead, hour.dead > 0 ? 'bad' : '', 'outcome-dead'),
        stat('Disabled by 410', hour.disabled),
        stat('Skipped', hour.skipped, hour.skipped > 0 ? 'warn' : ''),
      ),
      minuteChart(status),
    ),
    retentionSection(status),
    h(
      'section',
      { 'aria-labelledby': 'st-queues' },
      h('h3', { id: 'st-queues' }, 'Queues'),
      h(
        'dl',
        { class: 'stats' },
        stat('Event backlog', events.backlog ?? 'unknown'),
        stat('In fan-out', events.inFanOut),
        stat('Events retained', events.retained),
        ...Object.entries(deliveries.queue).map(([state, n]) => stat(`Deliveries ${state}`, n)),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'st-subs' },
      h('h3', { id: 'st-subs' }, 'Subscriptions and quarantine'),
      h(
        'dl',
        { class: 'stats' },
        stat('Subscriptions', subscriptions.total),
        stat('Enabled', subscriptions.enabled),
        stat('Disabled', subscriptions.disabled),
        stat('Failing', subscriptions.failing, subscriptions.failing > 0 ? 'warn' : ''),
        stat('Quarantined frames', quarantine.total, quarantine.total > 0 ? 'warn' : ''),
      ),
    ),
    h('p', { class: 'muted' }, `Version ${status.version} · as of ${formatTime(status.time)}`),
  ];
}

export const statusView: View = (root, ctx) => {
  const body = h('div', {}, notice('info', 'Loading…'));
  replace(root, h('h2', {}, 'Status'), body);
  return every(5_000, async () => {
    const status = await attempt(body, () => ctx.api.status());
    if (status) {
      replace(body, ...render(status));
    }
  });
};
