import type { BridgeEvent, ReplayResult } from '../admin-api.types';
import { renderFields } from './table.formatter';
import { printable } from './terminal-text';
import type { TimeFormatter } from './time.formatter';

function indentedJson(value: unknown): string {
  return printable(JSON.stringify(value, null, 2))
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

export function formatEvent(event: BridgeEvent, time: TimeFormatter): string {
  return [
    renderFields([
      ['ID', event.id],
      ['Type', event.type],
      ['Occurred', time.long(event.occurredAt)],
      ['Received', time.long(event.receivedAt)],
    ]),
    '',
    'Data:',
    indentedJson(event.data),
    '',
    'Frame as received:',
    indentedJson(event.raw),
  ].join('\n');
}

export function formatReplay(
  subscriptionId: string,
  result: ReplayResult,
  window: { since: string; until?: string; scope: string },
  time: TimeFormatter,
): string {
  const what =
    window.scope === 'all' ? 'event(s) delivered again' : 'failed delivery(ies) sent again';
  return `${result.replayed} ${what} to ${subscriptionId}, from ${time.long(window.since)} to ${window.until ? time.long(window.until) : 'now'}.`;
}
