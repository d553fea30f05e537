import type { StatusReport } from '../status/status-report';
import { formatStatus } from './status.formatter';
import { TimeFormatter } from './time.formatter';

const report: StatusReport = {
  ready: false,
  checks: [
    { name: 'redis', up: true, details: { latencyMs: 2 } },
    {
      name: 'opentact',
      up: false,
      message: 'Opentact WSS not authenticated (state: connecting)',
      details: { since: '2026-11-30T10:00:00.000Z' },
    },
  ],
  connection: { state: 'connecting', reconnects: 3, authFailures: 1, deadPeers: 0, paused: false },
  queues: [{ name: 'deliveries', jobs: { waiting: 12, delayed: 3 } }],
  deliveries: { success: 9, dead: 1 },
  events: { framesReceived: 10, eventsEnqueued: 9, duplicates: 1, quarantined: 0 },
  notes: ['something could not be read'],
};

describe('formatStatus', () => {
  const text = formatStatus(report, 'http://127.0.0.1:3000', new TimeFormatter('UTC'));
  const lines = text.split('\n');

  it('says plainly whether the service is ready and which check is down, and why', () => {
    expect(lines[1]).toBe('Ready:    NO');
    expect(text).toMatch(
      /opentact\s+DOWN\s+Opentact WSS not authenticated \(state: connecting\)\s+since=2026-11-30 10:00:00/,
    );
    expect(text).toMatch(/redis\s+up\s+latencyMs=2/);
  });

  it('shows the connection, every queue state and the counters', () => {
    expect(text).toContain(
      'Opentact connection: connecting; reconnects 3, auth failures 1, dead peers 0',
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^QUEUE\s+WAITING\s+ACTIVE\s+DELAYED\s+PRIORITIZED\s+FAILED\s+COMPLETED$/,
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^deliveries\s+12\s+0\s+3\s+0\s+0\s+0$/));
    expect(text).toContain('Frames received 10, events enqueued 9, duplicates 1, quarantined 0');
    expect(text).toContain('Delivery attempts: success 9, dead 1');
    expect(text).toContain('Note: something could not be read');
  });

  it('says when this process holds no Opentact connection', () => {
    expect(
      formatStatus({ ...report, connection: undefined }, 'http://x', new TimeFormatter('UTC')),
    ).toContain('Opentact connection: not held by this process (no ingest role)');
  });
});
