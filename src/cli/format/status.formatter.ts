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

function counts(values: Record<string, number>): string {
  const entries = Object.entries(values);
  return entries.length === 0 ? 'none yet' : entries.map(([k, v]) => `${k} ${v}`).join(', ');
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

  const c = report.connection;
  lines.push(
    '',
    c
      ? `Opentact connection: ${c.state}${c.paused ? ' (reading paused: ingest buffer full)' : ''}; ` +
          `reconnects ${c.reconnects ?? 0}, auth failures ${c.authFailures ?? 0}, dead peers ${c.deadPeers ?? 0}`
      : 'Opentact connection: not held by this process (no ingest role)',
  );

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
