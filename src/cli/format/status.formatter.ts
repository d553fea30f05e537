import type { StatusCheck, StatusReport } from '../status/status-report';
import { renderFields, renderTable } from './table.formatter';
import type { TimeFormatter } from './time.formatter';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'];
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function detailText(check: StatusCheck, time: TimeFormatter): string {
  const details = Object.entries(check.details).map(
    ([key, value]) =>
      `${key}=${typeof value === 'string' && ISO_TIME.test(value) ? time.short(value) : String(value)}`,
  );
  return [check.message, ...details].filter((part) => part !== undefined && part !== '').join('  ');
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

function counts(values: Record<string, number>): string {
  const entries = Object.entries(values);
  return entries.length === 0 ? 'none yet' : entries.map(([k, v]) => `${k} ${v}`).join(', ');
}

function connectionLines(report: StatusReport, time: TimeFormatter): string[] {
  const c = report.connection;
  if (!c) {
    return ['Opentact connection: not held by this process (no ingest role)'];
  }
  if (!c.instances) {
    return [
      `Opentact connection: ${c.state}${c.paused ? ' (reading paused: ingest buffer full)' : ''}; ` +
        `reconnects ${c.reconnects ?? 0}, auth failures ${c.authFailures ?? 0}, dead peers ${c.deadPeers ?? 0}`,
    ];
  }
  if (c.instances.length === 0) {
    return [`Opentact connection: ${c.state} (no ingest process reports)`];
  }
  return [
    `Opentact connection: ${c.state}`,
    renderTable(
      [
        { header: 'INGEST' },
        { header: 'STATE' },
        { header: 'RECONNECTS', align: 'right' },
        { header: 'AUTH FAILS', align: 'right' },
        { header: 'READING' },
        { header: 'LAST FRAME' },
        { header: 'REPORTED' },
        { header: 'PROBLEM', max: 100 },
      ],
      c.instances.map((i) => [
        i.instance,
        i.state,
        i.reconnects,
        i.authFailures ?? 0,
        i.paused ? 'PAUSED' : 'yes',
        i.lastFrameAt ? time.short(i.lastFrameAt) : '-',
        time.short(i.reportedAt),
        i.problem ?? '-',
      ]),
    ),
  ];
}

export function formatStatus(
  report: StatusReport,
  serviceUrl: string,
  time: TimeFormatter,
): string {
  const lines: string[] = [
    renderFields([
      ['Service', serviceUrl],
      ['Ready', report.ready ? 'yes' : 'NO'],
    ]),
    '',
    renderTable(
      [{ header: 'CHECK' }, { header: 'STATUS' }, { header: 'DETAIL', max: 100 }],
      report.checks.map((c) => [c.name, c.up ? 'up' : 'DOWN', detailText(c, time)]),
    ),
  ];

  lines.push('', ...connectionLines(report, time));

  if (report.queues.length > 0) {
    lines.push(
      '',
      renderTable(
        [
          { header: 'QUEUE' },
          ...QUEUE_STATES.map((s) => ({ header: s.toUpperCase(), align: 'right' as const })),
        ],
        report.queues.map((q) => [q.name, ...QUEUE_STATES.map((s) => q.jobs[s] ?? 0)]),
      ),
    );
  }

  const p = report.pipeline;
  if (p) {
    lines.push(
      '',
      `Events: backlog ${p.backlog ?? 'unknown'}, in fan-out ${p.inFanOut}, retained ${p.retained}`,
    );
    if (p.retention) {
      const r = p.retention;
      lines.push(
        `Event log: ${mebibytes(r.bytes)} of ${mebibytes(r.budgetBytes)} budget, held by ${r.heldDeliveries} waiting deliveries`,
      );
      if (r.overBudget) {
        lines.push(
          `EVENT LOG OVER BUDGET since ${time.short(r.overBudget.since)}: ${r.overBudget.evicted} events evicted, their deliveries skipped`,
        );
      }
    }
    if (p.skipped !== undefined) {
      lines.push(
        `Skipped deliveries, retention window: ${p.skipped}${p.skipped > 0 ? ' (deliveries list --status skipped)' : ''}`,
      );
    }
  }
  if (report.deliveriesCountedBy === 'last-hour') {
    lines.push(`Delivery attempts, last hour, every worker: ${counts(report.deliveries)}`);
  }
  const subs = report.subscriptions;
  if (subs) {
    lines.push(
      `Subscriptions: ${subs.total} (enabled ${subs.enabled}, disabled ${subs.disabled}, failing ${subs.failing})`,
    );
  }
  if (report.quarantined !== undefined) {
    lines.push(`Quarantined frames: ${report.quarantined}`);
  }
  const r = report.recovery;
  if (r) {
    const gap = r.lastGap;
    lines.push(
      `Recovery: open gaps ${r.openGaps}; last gap ` +
        (gap
          ? `${time.short(gap.gapFrom)} to ${time.short(gap.gapTo)} (${gap.gapSeconds} s${gap.truncated ? ', truncated' : ''})`
          : 'none'),
    );
  }

  if (report.events) {
    const e = report.events;
    lines.push(
      '',
      'Counted by this process since it started:',
      `  Frames received ${e.framesReceived}, events enqueued ${e.eventsEnqueued}, ` +
        `duplicates ${e.duplicates}, quarantined ${e.quarantined}`,
      `  Delivery attempts: ${counts(report.deliveries)}`,
    );
  }
  for (const note of report.notes) {
    lines.push(`Note: ${note}`);
  }
  return lines.join('\n');
}
