import type { Delivery, DeliveryAttempt } from '../admin-api.types';
import { renderFields, renderTable } from './table.formatter';
import { printable } from './terminal-text';
import type { TimeFormatter } from './time.formatter';

const BODY_PREVIEW = 60;

function result(statusCode: number | undefined, error: string | undefined): string {
  if (statusCode !== undefined && error && error !== `status ${statusCode}`) {
    return `${statusCode} ${error}`;
  }
  return statusCode !== undefined ? String(statusCode) : (error ?? '');
}

export function formatDeliveryTable(deliveries: Delivery[], time: TimeFormatter): string {
  if (deliveries.length === 0) {
    return 'No deliveries.';
  }
  return renderTable(
    [
      { header: 'ID' },
      { header: 'CREATED' },
      { header: 'STATUS' },
      { header: 'EVENT TYPE' },
      { header: 'ATTEMPTS', align: 'right' },
      { header: 'LAST RESULT', max: 50 },
      { header: 'NEXT ATTEMPT' },
    ],
    deliveries.map((d) => [
      d.id,
      time.short(d.createdAt),
      d.status,
      d.eventType,
      d.attemptCount,
      result(d.lastStatusCode, d.lastError),
      time.short(d.nextAttemptAt),
    ]),
  );
}

function attemptsTable(attempts: DeliveryAttempt[], time: TimeFormatter): string {
  return renderTable(
    [
      { header: '#', align: 'right' },
      { header: 'TIME' },
      { header: 'STATUS', align: 'right' },
      { header: 'DURATION', align: 'right' },
      { header: 'ERROR', max: 50 },
      { header: 'RESPONSE BODY', max: BODY_PREVIEW },
    ],
    attempts.map((a) => [
      a.attempt,
      time.short(a.at),
      a.statusCode ?? '-',
      time.duration(a.durationMs),
      a.error,
      a.responseBody === undefined
        ? ''
        : `${a.responseBody}${a.responseTruncated ? ' (truncated)' : ''}`,
    ]),
  );
}

function fullBodies(attempts: DeliveryAttempt[]): string[] {
  return attempts
    .filter((a) => a.responseBody !== undefined && a.responseBody !== '')
    .flatMap((a) => [
      '',
      `Response body of attempt ${a.attempt}${a.responseTruncated ? ' (truncated by the service)' : ''}:`,
      ...printable(a.responseBody ?? '')
        .split('\n')
        .map((line) => `  ${line}`),
    ]);
}

/** One delivery and every attempt; `full` adds each response body whole, below the table. */
export function formatDelivery(delivery: Delivery, time: TimeFormatter, full = false): string {
  const d = delivery;
  const attempts = d.attempts ?? [];
  return [
    renderFields([
      ['ID', d.id],
      ['Status', d.status],
      ['Event', `${d.eventId} (${d.eventType})`],
      ['Subscription', d.subscriptionId],
      ['Created', time.long(d.createdAt)],
      ['Updated', time.long(d.updatedAt)],
      ['Attempts', d.attemptCount],
      ['Last result', result(d.lastStatusCode, d.lastError)],
      ['Next attempt', time.long(d.nextAttemptAt)],
    ]),
    '',
    attempts.length === 0 ? 'No attempts yet.' : attemptsTable(attempts, time),
    ...(full ? fullBodies(attempts) : []),
  ].join('\n');
}

export function formatRetried(delivery: Delivery): string {
  return [
    `Delivery ${delivery.id} queued again (status ${delivery.status}), with a fresh retry schedule.`,
    `Follow it with: opentact-bridge deliveries show ${delivery.id}`,
  ].join('\n');
}
