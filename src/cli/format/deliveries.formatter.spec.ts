import type { Delivery } from '../admin-api.types';
import { formatDelivery, formatDeliveryTable } from './deliveries.formatter';
import { TimeFormatter } from './time.formatter';

const time = new TimeFormatter('Europe/Paris');

const delivery: Delivery = {
  id: 'd_evt1_sub_1',
  eventId: 'evt1',
  eventType: 'call.hangup',
  subscriptionId: 'sub_1',
  status: 'succeeded',
  createdAt: '2026-11-30T10:00:00.000Z',
  updatedAt: '2026-11-30T10:00:03.000Z',
  attemptCount: 3,
  lastStatusCode: 200,
  attempts: [
    {
      attempt: 1,
      at: '2026-11-30T10:00:00.100Z',
      durationMs: 2000,
      error: 'timed out after 2000 ms',
    },
    {
      attempt: 2,
      at: '2026-11-30T10:00:01.000Z',
      durationMs: 15,
      statusCode: 503,
      error: 'status 503',
      responseBody: 'maintenance\n\x1b[2Jcleared',
      responseTruncated: true,
    },
    {
      attempt: 3,
      at: '2026-11-30T10:00:03.000Z',
      durationMs: 7,
      statusCode: 200,
      responseBody: 'ok',
    },
  ],
};

describe('formatDelivery', () => {
  it('shows every attempt with its local time, status code, duration, error and body', () => {
    const lines = formatDelivery(delivery, time).split('\n');
    const attempts = lines.slice(lines.findIndex((l) => l.startsWith('#')));
    expect(attempts[0]).toMatch(/^#\s+TIME\s+STATUS\s+DURATION\s+ERROR\s+RESPONSE BODY$/);
    expect(attempts[1]).toMatch(/^1\s+2026-11-30 11:00:00\s+-\s+2\.0 s\s+timed out after 2000 ms$/);
    expect(attempts[2]).toMatch(
      /^2\s+2026-11-30 11:00:01\s+503\s+15 ms\s+status 503\s+maintenance \\x1b\[2Jcleared \(truncated\)$/,
    );
    expect(attempts[3]).toMatch(/^3\s+2026-11-30 11:00:03\s+200\s+7 ms\s+ok$/);
    expect(lines).toContain('Created:       2026-11-30 11:00:00 GMT+1');
  });

  it('prints whole bodies below the table with --full, escape sequences made visible', () => {
    const text = formatDelivery(delivery, time, true);
    expect(text).toContain(
      'Response body of attempt 2 (truncated by the service):\n  maintenance\n  \\x1b[2Jcleared',
    );
    expect(text).toContain('Response body of attempt 3:\n  ok');
    expect(text).not.toContain('\x1b');
    expect(formatDelivery(delivery, time)).not.toContain('Response body of attempt');
  });

  it('says when there is no attempt yet', () => {
    expect(formatDelivery({ ...delivery, attempts: [], attemptCount: 0 }, time)).toContain(
      'No attempts yet.',
    );
  });
});

describe('formatDeliveryTable', () => {
  it('lists one line per delivery with its last result', () => {
    const text = formatDeliveryTable(
      [
        { ...delivery, attempts: undefined },
        { ...delivery, id: 'd_2', status: 'failing', lastStatusCode: 500, lastError: 'status 500' },
        {
          ...delivery,
          id: 'd_3',
          status: 'dead',
          lastStatusCode: undefined,
          lastError: 'connection refused',
        },
      ],
      time,
    );
    const lines = text.split('\n');
    expect(lines[0]).toMatch(
      /^ID\s+CREATED\s+STATUS\s+EVENT TYPE\s+ATTEMPTS\s+LAST RESULT\s+NEXT ATTEMPT$/,
    );
    expect(lines[1]).toMatch(
      /^d_evt1_sub_1\s+2026-11-30 11:00:00\s+succeeded\s+call\.hangup\s+3\s+200$/,
    );
    expect(lines[2]).toMatch(/\s500$/);
    expect(lines[3]).toMatch(/\sconnection refused$/);
    expect(formatDeliveryTable([], time)).toBe('No deliveries.');
  });
});
