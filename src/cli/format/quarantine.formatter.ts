import type { QuarantinePage } from '../admin-api.types';
import { renderTable } from './table.formatter';
import type { TimeFormatter } from './time.formatter';

export function formatQuarantine(page: QuarantinePage, time: TimeFormatter): string {
  const reasons = Object.entries(page.countsByReason)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const summary = `${page.total} frame(s) kept in quarantine${reasons ? `; quarantined so far by reason: ${reasons}` : ''}.`;
  if (page.items.length === 0) {
    return summary;
  }
  return [
    renderTable(
      [
        { header: 'ID' },
        { header: 'TIME' },
        { header: 'REASON' },
        { header: 'SIZE', align: 'right' },
        { header: 'DETAIL', max: 70 },
      ],
      page.items.map((f) => [
        f.id,
        time.short(f.at),
        f.reason,
        `${f.size}${f.truncated ? ' (cut)' : ''}${f.binary ? ' bin' : ''}`,
        f.detail,
      ]),
    ),
    '',
    `${summary} Raw bytes: --json (rawBase64).`,
  ].join('\n');
}
