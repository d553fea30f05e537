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
  deliveriesCountedBy: 'process',
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

  describe('from GET /v1/status', () => {
    const service: StatusReport = {
      ready: true,
      checks: [{ name: 'redis', up: true, details: {} }],
      connection: {
        state: 'open',
        instances: [
          {
            instance: 'ingest-a',
            state: 'open',
            reconnects: 2,
            paused: false,
            lastFrameAt: '2026-11-30T10:00:05.000Z',
            reportedAt: '2026-11-30T10:00:06.000Z',
          },
          {
            instance: 'ingest-b',
            state: 'connecting',
            reconnects: 7,
            paused: true,
            reportedAt: '2026-11-30T10:00:04.000Z',
            authFailures: 3,
            problem: 'refused: WSS connection x@y - auth not successful',
          },
        ],
      },
      queues: [{ name: 'deliveries', jobs: { delayed: 4 } }],
      deliveries: { success: 120, retry: 3, dead: 0, disabled: 0, skipped: 1 },
      deliveriesCountedBy: 'last-hour',
      pipeline: {
        backlog: 5,
        inFanOut: 2,
        retained: 900,
        retention: {
          bytes: 3 * 1_048_576,
          budgetBytes: 1_073_741_824,
          heldDeliveries: 40,
          overBudget: { since: '2026-11-30T09:10:00.000Z', evicted: 12 },
        },
        skipped: 12,
      },
      subscriptions: { total: 4, enabled: 3, disabled: 1, failing: 1 },
      quarantined: 6,
      recovery: {
        openGaps: 1,
        lastGap: {
          gapFrom: '2026-11-30T09:00:00.000Z',
          gapTo: '2026-11-30T09:00:42.000Z',
          gapSeconds: 42,
          truncated: true,
        },
      },
      notes: [],
    };
    const text = formatStatus(service, 'http://x', new TimeFormatter('UTC'));
    const rows = text.split('\n');

    it('lists every ingest process with its link, reading state and last frame', () => {
      expect(text).toContain('Opentact connection: open\n');
      expect(rows).toContainEqual(
        expect.stringMatching(
          /^INGEST\s+STATE\s+RECONNECTS\s+AUTH FAILS\s+READING\s+LAST FRAME\s+REPORTED\s+PROBLEM$/,
        ),
      );
      expect(rows).toContainEqual(
        expect.stringMatching(
          /^ingest-a\s+open\s+2\s+0\s+yes\s+2026-11-30 10:00:05\s+2026-11-30 10:00:06\s+-$/,
        ),
      );
      // A link that never authenticated says so, with why, beside its failed logins.
      expect(rows).toContainEqual(
        expect.stringMatching(
          /^ingest-b\s+connecting\s+7\s+3\s+PAUSED\s+-\s+2026-11-30 10:00:04\s+refused: WSS connection x@y - auth not successful$/,
        ),
      );
    });

    it('shows the pipeline, the last hour of every worker, subscriptions, quarantine and recovery', () => {
      expect(rows).toContainEqual(expect.stringMatching(/^deliveries\s+0\s+0\s+4\s+0\s+0\s+0$/));
      expect(text).toContain('Events: backlog 5, in fan-out 2, retained 900');
      expect(text).toContain(
        'Event log: 3.0 MiB of 1024.0 MiB budget, held by 40 waiting deliveries',
      );
      expect(text).toContain(
        'EVENT LOG OVER BUDGET since 2026-11-30 09:10:00: 12 events evicted, their deliveries skipped',
      );
      expect(text).toContain(
        'Skipped deliveries, retention window: 12 (deliveries list --status skipped)',
      );
      expect(text).toContain(
        'Delivery attempts, last hour, every worker: success 120, retry 3, dead 0, disabled 0, skipped 1',
      );
      expect(text).toContain('Subscriptions: 4 (enabled 3, disabled 1, failing 1)');
      expect(text).toContain('Quarantined frames: 6');
      expect(text).toContain(
        'Recovery: open gaps 1; last gap 2026-11-30 09:00:00 to 2026-11-30 09:00:42 (42 s, truncated)',
      );
      // Process counters belong to the /metrics reading only.
      expect(text).not.toContain('Counted by this process');
    });

    it('says when no ingest process reports, when Redis cannot count the backlog, and no gap yet', () => {
      const quiet = formatStatus(
        {
          ...service,
          connection: { state: 'unknown', instances: [] },
          pipeline: { backlog: null, inFanOut: 0, retained: 0 },
          recovery: { openGaps: 0 },
        },
        'http://x',
        new TimeFormatter('UTC'),
      );
      expect(quiet).toContain('Opentact connection: unknown (no ingest process reports)');
      expect(quiet).toContain('Events: backlog unknown, in fan-out 0, retained 0');
      expect(quiet).toContain('Recovery: open gaps 0; last gap none');
      expect(quiet).not.toContain(', truncated');
      expect(quiet).not.toContain('Event log:');
      expect(quiet).not.toContain('OVER BUDGET');
    });
  });
});
